import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag.ts';

/**
 * One JSON line per request, with HTTP API context variables (CloudWatch Logs Insights parses it).
 * Not the path: it carries secrets — integration keys (`/integrations/<format>/<key>`,
 * `/heartbeat/<id>/<key>`) and signed link tokens (`/a/<token>`, which act on a POST for 48 h) —
 * and whoever may read the logs may not hold them. The functions log what each request was about.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    caller: '$context.identity.userArn',
    method: '$context.httpMethod',
    routeKey: '$context.routeKey',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export interface KlaxonApiProps {
  /** The function serving the `$default` route: ingest and acknowledge links. */
  readonly handler: lambda.IFunction;
  /**
   * The function serving the IAM-authorized paths (the management API).
   * @default handler
   */
  readonly apiHandler?: lambda.IFunction;
  /**
   * Paths (any method) that need a SigV4-signed caller with `execute-api:Invoke` permission: the
   * read endpoints. Everything else (ingest authenticated by integration key, signed acknowledge
   * links) goes to the unauthenticated `$default` route.
   * @default ['/api/{proxy+}']
   */
  readonly iamAuthorizedPaths?: readonly string[];
  /**
   * Steady-state requests per second across the API.
   * @default 100
   */
  readonly rateLimit?: number;
  /**
   * Requests allowed in a burst above the rate (alert storms arrive in bursts).
   * @default 200
   */
  readonly burstLimit?: number;
  /**
   * Retention of the access log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
}

/**
 * The public HTTP API: a `$default` route proxies every request to the http function, IAM-authorized
 * routes guard the read API in front of the same function; the `$default` stage is throttled and
 * writes JSON access logs.
 */
export class KlaxonApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** Base URL, ending in `/`. */
  readonly url: string;
  /** Base URL without the trailing `/` (the `$default` stage is served at the API's endpoint). */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: KlaxonApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 100;
    const burstLimit = props.burstLimit ?? 200;
    const iamAuthorizedPaths = props.iamAuthorizedPaths ?? ['/api/{proxy+}'];
    for (const p of iamAuthorizedPaths) {
      if (!p.startsWith('/'))
        throw new Error(`KlaxonApi: iamAuthorizedPaths must start with "/", got "${p}"`);
    }
    if (!(rateLimit > 0)) throw new Error(`KlaxonApi: rateLimit must be > 0, got ${rateLimit}`);
    if (!Number.isInteger(burstLimit) || burstLimit < 1) {
      throw new Error(`KlaxonApi: burstLimit must be an integer >= 1, got ${burstLimit}`);
    }

    const integration = new HttpLambdaIntegration('Handler', props.handler);
    const apiIntegration =
      props.apiHandler === undefined
        ? integration
        : new HttpLambdaIntegration('ApiHandler', props.apiHandler);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'Klaxon: alert ingest, acknowledge links and read endpoints',
      defaultIntegration: integration,
      // Created below, to set throttling and access logs.
      createDefaultStage: false,
    });
    const defaultRoute = this.httpApi.node.findChild('DefaultRoute');
    acknowledgeNag(
      defaultRoute,
      'AwsSolutions-APIG4',
      'The $default route is authenticated in the function, per request: ingest requests by ' +
        'integration key (path, Bearer or basic auth; looked up by SHA-256, unknown keys refused), ' +
        'acknowledge links by their HMAC signature and expiry. Alertmanager, Grafana and Events v2 ' +
        'clients cannot sign requests with SigV4, and a Lambda authorizer would repeat the same key ' +
        'lookup. The read API (iamAuthorizedPaths) has the IAM authorizer; the stage is throttled.',
    );
    for (const path of iamAuthorizedPaths) {
      this.httpApi.addRoutes({
        path,
        methods: [apigwv2.HttpMethod.ANY],
        integration: apiIntegration,
        authorizer: new HttpIamAuthorizer(),
      });
    }
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
    this.url = this.stage.url;
    this.baseUrl = this.httpApi.apiEndpoint;
  }
}

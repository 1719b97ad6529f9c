/**
 * The CDK app (cdk.json). `cdk synth -c config=path/to/klaxon.config.json` (or KLAXON_CONFIG, as
 * for `npm start`) picks another config; an invalid one fails synth with a message naming the field.
 */

import { App } from 'aws-cdk-lib';
import { ConfigError } from '#core/errors';
import { buildKlaxonApp } from '../lib/app.ts';

const app = new App();
try {
  buildKlaxonApp(app);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // The message names every bad field; a stack trace would only bury it.
  console.error(error.message);
  process.exit(1);
}
app.synth();

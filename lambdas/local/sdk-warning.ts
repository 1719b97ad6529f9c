/**
 * Imported first by the entry points that run on the developer's Node (bin/local.ts, bin/klaxon.ts):
 * the AWS SDK prints an 8-line NodeVersionSupportWarning on Node < 22 the first time a client is
 * created, though the engine Klaxon documents is >= 20.19 (the Lambdas run Node 22 and never see
 * it). The SDK's own switch turns off exactly that warning, no other; a value the user set wins.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

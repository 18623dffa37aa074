/**
 * Every coded error edgeprobe throws, in the spirit of Fastify's FST_ERR_* catalogue: a stable code, a
 * message template, a fix line and a category. Library code throws `epError(code, params)`; only the CLI
 * turns a category into an exit code. Templates only interpolate their parameters (call sites compute lists
 * and wording), so scripts/errors-doc.ts can render each one with `{name}` placeholders for docs/errors.md.
 */

/** What kind of mistake or condition a code is; the CLI maps these to exit codes. */
export type ErrorCategory =
  | 'input' //       a flag, argument or request value
  | 'config' //      an agent/coordinator config, a job plan or a probe settings file
  | 'model' //       model files: ONNX graph, tokenizer, config.json, pinned checksums
  | 'data' //        data files the probes read: sentences, norms, fill-mask items
  | 'environment' // network, disk, databases, brokers, external tools
  | 'health'; //     a check that found a problem (not a mistake): `edgeprobe health`

export type ErrorParams = Record<string, string | number>;

export interface CatalogueEntry<P extends ErrorParams = ErrorParams> {
  readonly category: ErrorCategory;
  readonly message: (p: P) => string;
  readonly fix: (p: P) => string;
}

/** A template is a string when it has no parameters, else a function that only interpolates them. */
type Template<P> = string | ((p: P) => string);

function entry<P extends ErrorParams = Record<never, never>>(category: ErrorCategory, message: Template<P>, fix: Template<P>): CatalogueEntry<P> {
  const render = (t: Template<P>) => (typeof t === 'string' ? () => t : t);
  return { category, message: render(message), fix: render(fix) };
}

type S = string;
type N = string | number;

export const CATALOGUE = {
  // --- command-line and request input -------------------------------------------------------------------
  EP_FLAG_OUT_OF_RANGE: entry('input', (p: { flag: S; range: S; value: N; example: S }) => `--${p.flag} must be ${p.range}, got ${p.value}`,
    (p) => `pass e.g. --${p.flag} ${p.example}`),
  EP_TEXT_FLAG_EMPTY: entry('input', '--text is empty', 'give --text at least one word, e.g. --text "the cat sat"'),
  EP_ENCODE_TEXT_EMPTY: entry('input', 'empty text', 'give at least one word to encode'),
  EP_VARIANTS_EMPTY: entry('input', (p: { flag: S; valid: S }) => `${p.flag} is empty`, (p) => `name one or more of: ${p.valid}, or none`),
  EP_VARIANT_UNKNOWN: entry('input', (p: { name: S; source: S; valid: S }) => `unknown variant "${p.name}" in ${p.source}`, (p) => `valid variants: ${p.valid}`),
  EP_USER_VARIANT_SYNTAX: entry('input', (p: { flag: S; value: S }) => `${p.flag} ${p.value}: not NAME=PATH`, (p) => `write ${p.flag} my-int8=path/to/model_quantized.onnx (repeat the flag for several files)`),
  EP_USER_VARIANT_NAME: entry('input', (p: { name: S; source: S; builtins: S }) => `${p.source}: "${p.name}" cannot name a user-supplied variant`,
    (p) => `use lower-case letters, digits, '.', '_' or '-' (starting with a letter, at most 40), not a built-in name (${p.builtins})`),
  EP_USER_VARIANT_DUPLICATE: entry('input', (p: { name: S; source: S }) => `${p.source}: variant "${p.name}" is given twice`, 'give each user-supplied file its own name'),
  EP_LAYERS_UNKNOWN: entry('input', (p: { layer: S; count: N }) => `--layers: '${p.layer}' is not a layer of this model`,
    (p) => `use static, 0..${p.count} (0 = embedding output) or all`),
  EP_MODEL_DIR_FLAG_INVALID: entry('input', (p: { item: S }) => `--model ${p.item} is not NAME=DIR`,
    'e.g. --model wordnet-bert-small=/models/wordnet-bert-small (the name the devices report)'),
  EP_MODEL_PATH_MISSING: entry('input', (p: { path: S }) => `model path not found: ${p.path}`, 'pass a model directory (ONNX file + tokenizer files) or an .onnx file'),
  EP_JOB_NO_DEVICES: entry('input', 'no devices given', 'pass --devices a,b with registered device ids (see `edgeprobe jobs devices`)'),
  EP_CLI_USAGE: entry('input', (p: { problem: S }) => p.problem, 'run the command with --help for its usage'),
  EP_JOB_DEVICE_ID_INVALID: entry('input', (p: { id: S }) => `invalid device id ${p.id}`, 'device ids are 1-64 letters, digits, _ or -'),
  EP_JOB_DEVICE_UNREGISTERED: entry('input', (p: { device: S; registered: S }) => `device ${p.device} has never registered with this coordinator`,
    (p) => `start its agent first; registered: ${p.registered}`),
  EP_JOB_UNKNOWN: entry('input', (p: { jobId: S; db: S }) => `no job ${p.jobId} in ${p.db}`, 'see `edgeprobe jobs list` for job ids'),
  EP_SCHEDULE_CADENCE: entry('input', 'a schedule needs exactly one of --every-hours and --cron', 'pass --every-hours 6 or --cron "0 3 * * *"'),
  EP_SCHEDULE_EVERY_INVALID: entry('input', (p: { value: S }) => `--every-hours ${p.value} is not a positive number of hours`, 'pass a number of hours above 0, e.g. --every-hours 6 (0.5 = every 30 minutes)'),
  EP_SCHEDULE_CRON_INVALID: entry('input', (p: { cron: S; reason: S }) => `--cron ${p.cron} is not a cron expression: ${p.reason}`, 'use five fields (minute hour day month weekday), e.g. "0 3 * * *" for 03:00 UTC daily'),
  EP_SCHEDULE_TARGET: entry('input', 'a schedule needs --devices or --group', 'pass --devices a,b (device ids) or --group "pi-*" (device ids matching a pattern, resolved at every run)'),
  EP_ALERT_NOT_OPEN: entry('input', (p: { id: S }) => `no open alert ${p.id}`, 'see `edgeprobe alerts list --state open` for open alerts'),
  EP_SCHEDULE_UNKNOWN: entry('input', (p: { id: S }) => `no schedule ${p.id}`, 'see `edgeprobe jobs schedule list` for schedule ids'),
  EP_REPLICA_ID_INVALID: entry('input', (p: { id: S }) => `invalid --replica-id ${p.id}`, 'use 1-64 letters, digits, _ or -'),
  EP_REPLICA_NEEDS_POSTGRES: entry('input', '--replica-id needs a shared store',
    'replicas must share one PostgreSQL database: pass --db postgres://... (or set db in the config)'),
  EP_SIM_DEVICE_IDS_INVALID: entry('input', (p: { prefix: S; devices: N }) => `--prefix ${p.prefix} / --devices ${p.devices} do not make valid device ids`,
    'device ids are 1-64 letters, digits, _ or -; --devices is a whole number'),
  EP_BROKER_USER_INVALID: entry('input', (p: { user: S; coordinator: S }) => `invalid user name "${p.user}"`,
    (p) => `use "${p.coordinator}" or a device id (1-64 letters, digits, _ or -)`),
  EP_CERT_NO_HOSTS: entry('input', 'no host names for the broker certificate',
    'pass --hosts with the names and IPs agents connect to, e.g. --hosts broker.local,192.168.1.10,localhost'),
  EP_CERT_HOST_INVALID: entry('input', (p: { host: S }) => `"${p.host}" is neither a host name nor an IP address`,
    'pass --hosts as a comma-separated list, e.g. broker.local,127.0.0.1'),
  EP_CERT_FILES_EXIST: entry('input', (p: { dir: S; files: S }) => `${p.dir} already holds ${p.files}`,
    'choose another --out directory, or pass --force to replace them (devices must then get the new ca.crt)'),
  EP_FETCH_SHA256_INVALID: entry('input', (p: { sha256: S }) => `--sha256 "${p.sha256}" is not a sha256 hex digest`, 'pass the 64 hex characters published with the model'),
  EP_FETCH_URL_INVALID: entry('input', (p: { url: S }) => `"${p.url}" is not a URL`, 'pass an http(s) URL of the model file or archive'),
  EP_FETCH_URL_SCHEME: entry('input', (p: { scheme: S; url: S }) => `unsupported URL scheme ${p.scheme} in ${p.url}`, 'use an http:// or https:// URL'),
  EP_MAPS_MODEL_UNKNOWN: entry('input', (p: { model: S; known: S }) => `no local copy of model ${p.model} on the coordinator`,
    (p) => `start the dashboard with --model ${p.model}=DIR (known: ${p.known})`),
  EP_MAPS_LAYER_OUT_OF_RANGE: entry('input', (p: { layer: N; layers: N }) => `layer ${p.layer} is out of range`, (p) => `use 1..${p.layers}`),
  EP_MAPS_SENTENCE_EMPTY: entry('input', 'empty sentence', 'type a sentence'),
  EP_MAPS_SENTENCE_TOO_LONG: entry('input', (p: { chars: N; max: N; tokens: N }) => `sentence of ${p.chars} characters`,
    (p) => `use at most ${p.max} (maps show the first ${p.tokens} tokens)`),
  EP_DASHBOARD_TOKEN_SHORT: entry('input', (p: { length: N; min: N }) => `dashboard token is ${p.length} characters long`,
    (p) => `use at least ${p.min} random characters (or leave it unset to get a generated one)`),

  // --- config files and job plans ----------------------------------------------------------------------
  EP_CONFIG_NOT_FOUND: entry('config', (p: { what: S; file: S; example: S }) => `${p.what} not found: ${p.file}`, (p) => `create it from ${p.example} and pass its path`),
  EP_CONFIG_SYNTAX: entry('config', (p: { file: S; format: S; reason: S; example: S }) => `${p.file} is not valid ${p.format}: ${p.reason}`,
    (p) => `fix the syntax (compare with ${p.example})`),
  EP_CONFIG_NOT_OBJECT: entry('config', (p: { file: S; what: S; example: S }) => `${p.file}: the ${p.what} must be an object with fields`, (p) => `start from ${p.example}`),
  EP_CONFIG_UNKNOWN_FIELD: entry('config', (p: { file: S; fields: S; allowed: S }) => `${p.file}: unknown field ${p.fields}`,
    (p) => `remove it or fix its spelling; allowed here: ${p.allowed}`),
  EP_CONFIG_FIELD_INVALID: entry('config', (p: { file: S; field: S; problem: S; got: S; expected: S }) => `${p.file}: field ${p.field} is invalid (${p.problem}; ${p.got})`,
    (p) => `set ${p.field} to ${p.expected}`),
  EP_CONFIG_REF_MISSING: entry('config', (p: { file: S; field: S; target: S }) => `${p.file}: ${p.field} points to ${p.target}, which does not exist`,
    (p) => `create the file or correct ${p.field}`),
  EP_CONFIG_REF_UNREADABLE: entry('config', (p: { file: S; field: S; target: S; reason: S }) => `${p.file}: ${p.field} points to ${p.target}, which cannot be read (${p.reason})`,
    (p) => `give the service user read access to it (chmod/chown), or correct ${p.field}`),
  EP_NO_BROKER_URL: entry('config', 'no broker URL', (p: { side: S }) => `pass --broker mqtts://HOST:8883 or set broker.url in the ${p.side} config`),
  EP_BROKER_URL_INVALID: entry('config', (p: { url: S; source: S }) => `broker URL ${p.url} is not an MQTT URL (${p.source})`,
    'use e.g. mqtts://broker.local:8883, or mqtt://localhost:1883 on the broker host'),
  EP_BROKER_PLAINTEXT_REMOTE: entry('config', (p: { file: S; field: S; protocol: S; host: S }) => `${p.file}: ${p.field}.url is plain ${p.protocol}// to ${p.host}; the password would cross the network unencrypted`,
    (p) => `use mqtts://${p.host}:8883 and set ${p.field}.caFile (plain MQTT is only accepted to localhost)`),
  EP_BROKER_TLS_ON_PLAIN: entry('config', (p: { file: S; field: S; protocol: S }) => `${p.file}: ${p.field}.caFile/certFile are set but ${p.field}.url is plain ${p.protocol}//`,
    'use mqtts:// (port 8883) or remove the TLS files'),
  EP_BROKER_CERT_KEY_PAIR: entry('config', (p: { file: S; field: S }) => `${p.file}: ${p.field}.certFile and ${p.field}.keyFile must be given together`, 'set both, or neither'),
  EP_BROKER_NO_PASSWORD: entry('config', (p: { file: S; username: S; field: S; env: S }) => `${p.file}: no MQTT password for ${p.username}`,
    (p) => `set ${p.field}.passwordFile or the ${p.env} environment variable`),
  EP_AGENT_DEVICE_ID_RESERVED: entry('config', (p: { file: S; reserved: S }) => `${p.file}: deviceId "${p.reserved}" is reserved for the coordinator`, 'choose another device id'),
  EP_AGENT_MODEL_NAME_DUPLICATE: entry('config', (p: { file: S; name: S }) => `${p.file}: model name ${p.name} appears twice in models`, 'give every allowed model a unique name'),
  EP_AGENT_BROKER_USERNAME_MISMATCH: entry('config', (p: { file: S; username: S; deviceId: S }) => `${p.file}: broker.username "${p.username}" differs from deviceId "${p.deviceId}"`,
    'remove broker.username (it defaults to deviceId): the broker only lets a device publish under its own username'),
  EP_AGENT_NO_DEVICE_ID: entry('config', 'no device id', (p: { example: S }) => `pass --device-id ID or set deviceId in the agent config (see ${p.example})`),
  EP_AGENT_DEVICE_ID_INVALID: entry('config', (p: { source: S; id: S; reserved: S }) => `invalid ${p.source} "${p.id}"`,
    (p) => `use 1-64 letters, digits, _ or - (not "${p.reserved}"): it is also the MQTT username and a topic level`),
  EP_AGENT_NO_NORMS_DIR: entry('config', 'this agent has no normsDir, so it cannot run the properties probe',
    'set normsDir in the agent config to a directory holding mcrae/, buchanan/, binder/ or CSV norm files'),
  EP_COORD_BROKER_USERNAME: entry('config', (p: { file: S; expected: S; got: S }) => `${p.file}: broker.username must be "${p.expected}" (got "${p.got}")`,
    (p) => `remove broker.username: the broker ACL gives job-publish rights to "${p.expected}" only`),
  EP_COORD_ADMISSION_EMPTY: entry('config', (p: { file: S }) => `${p.file}: admission admits no device (allowDevices is empty and no token hash is set)`,
    'list device ids in admission.allowDevices, or set admission.fleetTokenSha256 (see docs/security.md)'),
  EP_COORD_ADMISSION_LISTS_COORDINATOR: entry('config', (p: { file: S; username: S }) => `${p.file}: admission lists "${p.username}" as a device`,
    (p) => `remove it: "${p.username}" is the coordinator's own username`),
  EP_COORD_POLICY_NO_MODELS: entry('config', (p: { file: S }) => `${p.file}: policy.models is empty, so no job could be sent`,
    'add {"name": ..., "sha256": ...} for each model the fleet may run (edgeprobe models inspect MODEL prints the sha256)'),
  EP_COORD_CONFIG_REQUIRED: entry('config', (p: { brokerUrl: S; example: S }) => `no coordinator config: without one every device would be admitted, which is allowed only for a broker on this machine (${p.brokerUrl} is not)`,
    (p) => `pass --config with admission and policy (see ${p.example} and docs/security.md)`),
  EP_COORD_NO_DATABASE: entry('config', 'no database', 'pass --db FILE (or a postgres:// URL) or set db in the coordinator config'),
  EP_PLAN_NOT_FOUND: entry('config', (p: { file: S }) => `plan file not found: ${p.file}`, 'pass --plan with a JSON or YAML plan like configs/plan.example.json'),
  EP_PLAN_SYNTAX: entry('config', (p: { file: S; reason: S }) => `plan ${p.file} does not parse: ${p.reason}`, 'fix the JSON/YAML syntax'),
  EP_PLAN_FIELD_INVALID: entry('config', (p: { file: S; field: S; problem: S }) => `plan ${p.file}: field ${p.field} ${p.problem}`,
    'a plan names models, variants, probes and each probe\'s settings; see docs/fleet.md'),
  EP_PLAN_MODEL_NOT_ALLOWED: entry('config', (p: { reason: S }) => `job plan refused: ${p.reason}`,
    'pin every model in the plan by the sha256 in policy.models (edgeprobe models inspect prints it), or add it to the policy'),
  EP_PLAN_REFUSED: entry('config', (p: { reason: S }) => `job plan refused: ${p.reason}`, 'add it to policy in the coordinator config, or change the plan'),
  EP_PLAN_PROPERTIES_MISSING: entry('config', 'the plan asks for the properties probe but has no properties settings', 'add "settings": { "properties": { "norms": ["mcrae"] } } to the plan'),
  EP_DEMO_JOB_FAILED: entry('environment', (p: { states: S }) => `the demo job did not complete on every device: ${p.states}`,
    'the detail names the cause; in the coordinator image (no onnxruntime) run the demo from the agent image'),
  EP_DEMO_STALLED: entry('environment', (p: { what: S; seconds: N; status: S }) => `gave up waiting for ${p.what}: nothing advanced for ${p.seconds} s (last: ${p.status})`,
    'the work stopped making progress; rerun with a longer --stall-timeout if this device is very slow, or look at the agents\' log lines above'),
  EP_PLAN_PROBE_SETTINGS: entry('config', (p: { file: S; reason: S }) => `plan ${p.file}: ${p.reason}`,
    'name probes that edgeprobe knows (docs/fleet.md) and give each one\'s settings under "settings.<probe>"'),
  EP_CONFIG_PROBE_UNKNOWN: entry('config', (p: { file: S; field: S; value: S; known: S }) => `${p.file}: ${p.field} "${p.value}" is no probe`,
    (p) => `use probe kinds from ${p.known}`),
  EP_ATTENTION_THRESHOLDS_MISSING: entry('config', (p: { file: S }) => `attention thresholds file not found: ${p.file}`, 'restore configs/attention-thresholds.json from the repository'),
  EP_ATTENTION_THRESHOLDS_SYNTAX: entry('config', (p: { file: S; reason: S }) => `${p.file} is not valid JSON: ${p.reason}`, 'fix the syntax; see docs/attention.md for the fields'),
  EP_ATTENTION_THRESHOLDS_FIELD: entry('config', (p: { file: S; field: S; problem: S }) => `${p.file}: ${p.field} ${p.problem}`, 'see docs/attention.md for each field and its allowed range'),
  EP_ATTENTION_THRESHOLDS_ORDER: entry('config', (p: { file: S }) => `${p.file}: survival.survives limits must be at least as strict as survival.fails limits`,
    'lower survives.maxJs / maxIdentifiabilityDrop or raise its minimum overlaps so that survives sits inside fails'),
  EP_PROPERTIES_CONFIG_MISSING: entry('config', (p: { file: S }) => `properties config not found: ${p.file}`,
    'pass an existing JSON file to --config, or omit it for configs/properties.json'),
  EP_PROPERTIES_CONFIG_SYNTAX: entry('config', (p: { file: S; reason: S }) => `${p.file} is not valid JSON: ${p.reason}`, 'fix the file; see docs/properties.md for its fields'),
  EP_TEMPLATE_NO_WORD_SLOT: entry('config', (p: { templates: S }) => `every template must contain {word}: ${p.templates}`,
    'fix the templates in configs/properties.json or --templates'),

  // --- model files ---------------------------------------------------------------------------------------
  EP_MODEL_NO_ONNX: entry('model', (p: { dir: S }) => `no ONNX model in ${p.dir}`, 'the directory needs model.onnx (or exactly one .onnx file) beside its tokenizer files'),
  EP_MODEL_SEVERAL_ONNX: entry('model', (p: { dir: S; files: S }) => `several ONNX files in ${p.dir}: ${p.files}`, 'name the one to use, or keep the FP32 one as model.onnx'),
  EP_MODEL_CONFIG_SYNTAX: entry('model', (p: { file: S; reason: S }) => `${p.file} is not valid JSON: ${p.reason}`, 'fix or remove config.json (it is optional)'),
  EP_MODEL_TOKENIZER_MISMATCH: entry('model', (p: { dir: S; vocab: N; table: S; rows: N }) => `the tokenizer in ${p.dir} has ${p.vocab} tokens but the model's embedding table ${p.table} has ${p.rows} rows`,
    'the tokenizer files belong to another model; copy the tokenizer exported with this ONNX file'),
  EP_MODEL_CONFIG_MISMATCH: entry('model', (p: { hidden: N; file: S; width: N }) => `config.json says hidden_size ${p.hidden} but ${p.file} has embeddings of width ${p.width}`,
    'config.json belongs to another model; replace it with this model\'s config'),
  EP_ONNX_NOT_FOUND: entry('model', (p: { file: S }) => `ONNX model not found: ${p.file}`, 'pass a model directory that contains model.onnx, or the path to an .onnx file'),
  EP_ONNX_EMPTY: entry('model', (p: { file: S }) => `ONNX model is empty: ${p.file}`, 'the file is 0 bytes; copy or download it again'),
  EP_ONNX_UNREADABLE: entry('model', (p: { file: S; reason: S }) => `${p.file} is not a readable ONNX model (protobuf decode failed: ${p.reason})`,
    'the file is truncated or not ONNX; re-export it or download it again and compare its sha256'),
  EP_ONNX_NO_GRAPH: entry('model', (p: { file: S }) => `${p.file} is not an ONNX model: it has no graph nodes or opset imports`, 'point edgeprobe at an .onnx export of the model'),
  EP_ONNX_OPSET_TOO_OLD: entry('model', (p: { file: S; opset: N; min: N }) => `${p.file} uses ONNX opset ${p.opset}; int8 variants need opset ${p.min} or newer`,
    (p) => `re-export the model with opset_version=${p.min} or higher`),
  EP_ORT_LOAD_FAILED: entry('model', (p: { file: S; reason: S }) => `onnxruntime could not load ${p.file}: ${p.reason}`, 'check that the file is a complete ONNX export for a supported opset'),
  EP_MODEL_ATTENTION_FUSED: entry('model', (p: { file: S; op: S }) => `${p.file}: attention is fused into ${p.op} nodes, so there is no Softmax output to expose`,
    'export the model without attention fusion (e.g. optimum with --no-post-process or optimization level O1, or torch.onnx.export before onnxruntime.transformers.optimizer)'),
  EP_MODEL_QLINEAR_SOFTMAX: entry('model', (p: { file: S }) => `${p.file}: attention probabilities are computed inside QLinearSoftmax (QOperator-format quantization), so there is no float Softmax output to expose`,
    'quantize in QDQ format instead (onnxruntime quantize_static(..., quant_format=QuantFormat.QDQ), the default), or hand in the model before quantization'),
  EP_MODEL_SOURCE_QUANTIZED: entry('model', (p: { file: S; quantization: S }) => `${p.file} is already quantized (${p.quantization}), so it cannot be the fp32 reference that variants are judged against`,
    'pass the fp32 model it was made from as the model, and this file as --variant NAME=PATH (it is then compared with its source under its own name)'),
  EP_USER_VARIANT_MISMATCH: entry('model', (p: { name: S; file: S; what: S; source: S }) => `variant ${p.name} (${p.file}) does not pair with its source ${p.source}: ${p.what}`,
    'a user-supplied variant must be a compressed copy of the source model (same layers, hidden size and inputs)'),
  EP_AGENT_NO_USER_VARIANTS_DIR: entry('config', (p: { name: S }) => `the plan sends user variant ${p.name}, but this agent's config has no userVariantsDir`,
    'set userVariantsDir in the agent config to the directory holding the files plans may name'),
  EP_USER_VARIANT_SHA_MISMATCH: entry('model', (p: { name: S; file: S; expected: S; actual: S }) => `variant ${p.name}: ${p.file} has sha256 ${p.actual}, the plan pins ${p.expected}`,
    'fix the sha256 in the plan, or hand out the file the plan was written for'),
  EP_RANDOMIZATION_PACKED_WEIGHTS: entry('model', (p: { tensors: S; count: N }) => `the randomization sanity check cannot re-draw ${p.count} packed quantized weight tensor(s) (${p.tensors}): their values are several to a byte (MatMulNBits / INT4), so a verdict would come from weights it did not touch`,
    'run the attention probe on the fp32 source and pass this file as --variant NAME=PATH, or run it with --no-sanity'),
  EP_ONNX_EXTERNAL_DATA_MISSING: entry('model', (p: { file: S; tensor: S; location: S; reason: S }) => `${p.file}: tensor ${p.tensor} keeps its data in ${p.location}, which cannot be read: ${p.reason}`,
    'keep the .data file(s) the exporter wrote beside the .onnx file, under the names the graph gives them'),
  EP_MODEL_INPUT_UNKNOWN: entry('model', (p: { input: S; known: S }) => `model input ${p.input} is not one edgeprobe can fill (it feeds ${p.known})`,
    'export the encoder with the standard inputs (input_ids, attention_mask, optionally token_type_ids / position_ids)'),
  EP_MODEL_FIXED_SHAPE: entry('model', (p: { file: S; input: S; shape: S }) => `${p.file}: input ${p.input} has the fixed shape ${p.shape}; edgeprobe runs batches of sentences of different lengths`,
    'export with dynamic batch and sequence axes (torch.onnx.export dynamic_axes, or optimum-cli export onnx without --batch_size/--sequence_length)'),
  EP_MODEL_NO_SOFTMAX: entry('model', (p: { file: S }) => `${p.file}: no attention Softmax found`, 'edgeprobe probes BERT-family encoders whose attention probabilities are a Softmax node'),
  EP_MODEL_NO_EMBEDDING_LAYERNORM: entry('model', (p: { file: S }) => `${p.file}: no embedding LayerNorm before the first attention layer`,
    'edgeprobe expects a BERT-style embeddings block ending in LayerNorm'),
  EP_MODEL_LAYER_NORMS: entry('model', (p: { file: S; layer: N; found: N }) => `${p.file}: layer ${p.layer} does not end in two LayerNorms (found ${p.found})`,
    'edgeprobe supports post-LayerNorm BERT blocks (BERT, MiniLM, RoBERTa, DistilBERT)'),
  EP_MODEL_NO_WORD_EMBEDDING: entry('model', (p: { file: S }) => `${p.file}: no word-embedding lookup found`, 'static embeddings need a Gather on input_ids; use a BERT-style export'),
  EP_MODEL_TOO_FEW_POSITIONS: entry('model', (p: { positions: N }) => `fewer than 2 built-in sentences fit the model's ${p.positions} positions`, 'use a model with at least 16 positions'),
  EP_TOKENIZER_MISSING: entry('model', (p: { dir: S }) => `no tokenizer in ${p.dir}`, 'add tokenizer.json (Hugging Face format) or vocab.txt (BERT WordPiece) beside the ONNX file'),
  EP_TOKENIZER_SYNTAX: entry('model', (p: { file: S; reason: S }) => `${p.file} is not valid JSON: ${p.reason}`, 'replace it with the tokenizer file exported with the model'),
  EP_TOKENIZER_NO_VOCAB: entry('model', (p: { file: S }) => `${p.file} has no vocabulary`, 're-export the tokenizer with the model'),
  EP_TOKENIZER_SPECIAL_TOKEN_MISSING: entry('model', (p: { dir: S; token: S }) => `the tokenizer in ${p.dir} has no ${p.token} token`,
    'edgeprobe expects a BERT-style vocabulary with [CLS], [SEP] and [PAD]'),
  EP_MODEL_SHA256_CHANGED: entry('model', (p: { name: S; file: S; actual: S; expected: S }) => `model ${p.name}: ${p.file} has sha256 ${p.actual}, the agent config pins ${p.expected}`,
    'the file changed since it was allowed; restore it or update the sha256 in the agent config'),
  EP_MODEL_URL_SHA256_MISMATCH: entry('model', (p: { url: S; actual: S; expected: S }) => `${p.url} has sha256 ${p.actual}, the agent config pins ${p.expected}`,
    'the file at the URL changed or the pin is wrong; nothing was written'),
  EP_FETCH_SHA256_MISMATCH: entry('model', (p: { url: S; expected: S; actual: S }) => `sha256 mismatch for ${p.url}: expected ${p.expected}, got ${p.actual}; the download was deleted`,
    'check that --sha256 is the checksum published for this exact file, or that the URL points at the right version'),

  // --- data files ----------------------------------------------------------------------------------------
  EP_TEXT_FILE_MISSING: entry('data', (p: { file: S }) => `text file not found: ${p.file}`, 'pass --text with a UTF-8 file holding one sentence per line'),
  EP_TEXT_FILE_EMPTY: entry('data', (p: { file: S }) => `text file ${p.file} has no sentences (it is empty or only blank lines)`,
    'write one sentence per line, or leave out --text to use the built-in corpus'),
  EP_SENTENCES_TOO_LONG: entry('data', (p: { count: N; where: S; positions: N; examples: S; pieces: N }) => `${p.count} sentence(s)${p.where} exceed the model's ${p.positions} positions: ${p.examples}`,
    (p) => `split these sentences into parts of at most ${p.pieces} word pieces`),
  EP_TOO_FEW_SENTENCES: entry('data', (p: { count: N }) => `the attention probe needs at least 2 sentences, got ${p.count}`, 'add sentences to the text file or raise --sentences'),
  EP_NORMS_DIR_MISSING: entry('data', (p: { dir: S }) => `norms directory not found: ${p.dir}`,
    'point --norms-dir or EDGEPROBE_NORMS_DIR at the folder holding mcrae/, buchanan/ and binder/, or pass a norm file path to --norms'),
  EP_NORMS_SET_MISSING: entry('data', (p: { set: S; path: S }) => `${p.set} norms not found: ${p.path}`,
    (p) => `put the ${p.set} files (see docs/properties.md) under --norms-dir, or pass a norm file to --norms`),
  EP_NORMS_SPEC_UNKNOWN: entry('data', (p: { spec: S; named: S }) => `--norms ${p.spec} is neither ${p.named} nor an existing file`,
    'name a bundled norm set or give a CSV/TSV with columns concept, feature, value'),
  EP_NORMS_FILE_UNREADABLE: entry('data', (p: { file: S; reason: S }) => `cannot read norm file ${p.file}: ${p.reason}`, 'check the path given to --norms / --norms-dir'),
  EP_NORMS_FILE_EMPTY: entry('data', (p: { file: S }) => `norm file ${p.file} is empty`, 'give a file with a header row and one row per concept-feature pair'),
  EP_NORMS_COLUMNS_MISSING: entry('data', (p: { file: S; columns: S; header: S; what: S; required: S }) => `norm file ${p.file} lacks ${p.columns} (header: ${p.header})`,
    (p) => `${p.what} needs the columns ${p.required}`),
  EP_NORMS_BLANK_ROWS: entry('data', (p: { file: S; count: N; lines: S }) => `${p.file}: ${p.count} row(s) with an empty concept or feature (lines ${p.lines})`,
    'every row needs a concept, a feature and a value'),
  EP_NORMS_NO_FEATURES_LEFT: entry('data', (p: { name: S; file: S; minConcepts: N; minValue: N; before: N }) => `no feature of ${p.name} (${p.file}) is left after the thresholds: minConceptsPerFeature ${p.minConcepts}, minValue ${p.minValue} (${p.before} features before)`,
    'lower the thresholds in configs/properties.json or with --min-concepts-per-feature / --min-value'),
  EP_NORMS_TOO_FEW_CONCEPTS: entry('data', (p: { name: S; count: N }) => `${p.name} has only ${p.count} usable concept(s)`,
    'property inference needs at least 10 concepts (k-fold evaluation); check the norm file and the vocabulary'),
  EP_FILLMASK_MISSING: entry('data', (p: { file: S }) => `fill-mask file not found: ${p.file}`, 'pass a JSON-lines file with input_ids/mask_index/target_id or text with [MASK]'),
  EP_FILLMASK_EMPTY: entry('data', (p: { file: S }) => `${p.file} has no items`, 'add one JSON object per line'),
  EP_FILLMASK_LINE_SYNTAX: entry('data', (p: { file: S; line: N }) => `${p.file} line ${p.line} is not JSON`, 'each line must be one JSON object'),
  EP_FILLMASK_NO_MASK: entry('data', (p: { file: S; line: N }) => `${p.file} line ${p.line} has no [MASK] token`, 'put [MASK] where the word to predict stands'),
  EP_FILLMASK_LINE_SHAPE: entry('data', (p: { file: S; line: N }) => `${p.file} line ${p.line} needs input_ids + mask_index, or text with [MASK]`, 'see docs/compare.md for the format'),

  // --- environment: network, disk, databases, brokers, tools ---------------------------------------------
  EP_FETCH_UNREACHABLE: entry('environment', (p: { url: S; reason: S }) => `could not download ${p.url}: ${p.reason}`, 'check the URL and the network connection'),
  EP_FETCH_HTTP: entry('environment', (p: { url: S; status: N; statusText: S }) => `download of ${p.url} failed: HTTP ${p.status} ${p.statusText}`, 'check the URL'),
  EP_FETCH_UNPACK_FAILED: entry('environment', (p: { file: S; reason: S }) => `could not unpack ${p.file}: ${p.reason}`, 'the archive is damaged, or `tar` is not installed'),
  EP_MODEL_DOWNLOAD_HTTP: entry('environment', (p: { url: S; status: N }) => `download of ${p.url} failed: HTTP ${p.status}`, 'check the URL in the agent config and the network'),
  EP_ONNXRUNTIME_NOT_INSTALLED: entry('environment', 'this installation has no onnxruntime-node: the coordinator image leaves it out, since storing, dispatching and reporting never run a model',
    'run commands that run a model (demo, bench, probe, agent, attention heat maps through --model) from the agent image or an npm install of edgeprobe'),
  EP_VARIANTS_DIR_UNWRITABLE: entry('environment', (p: { dir: S; reason: S }) => `cannot write variants to ${p.dir}: ${p.reason}`,
    'pass --out DIR with a writable directory, or set EDGEPROBE_CACHE'),
  EP_POSTGRES_UNAVAILABLE: entry('environment', (p: { url: S; reason: S }) => `cannot open PostgreSQL store ${p.url}: ${p.reason}`,
    'check the URL (postgres://user:password@host:port/database), that the server runs and that the database exists'),
  EP_SUBMIT_BROKER_UNREACHABLE: entry('environment', (p: { broker: S; jobId: S }) => `broker ${p.broker} was not reachable within 10 s`,
    (p) => `job ${p.jobId} is stored: the running coordinator dispatches it on its next round (or check the broker URL)`),
  EP_CANCEL_BROKER_UNREACHABLE: entry('environment', (p: { broker: S }) => `broker ${p.broker} was not reachable within 10 s`, 'check the broker URL; nothing was cancelled'),
  EP_MOSQUITTO_PASSWD_UNAVAILABLE: entry('environment', (p: { tool: S; reason: S }) => `cannot run ${p.tool}: ${p.reason}`,
    'install Mosquitto (apt-get install mosquitto), or hash with the broker image (docs/deploy.md, "Users")'),
  EP_MOSQUITTO_PASSWD_FAILED: entry('environment', (p: { tool: S; file: S; output: S }) => `${p.tool} failed for ${p.file}: ${p.output}`,
    'check that the password file is writable and not a directory'),

  // --- health checks -------------------------------------------------------------------------------------
  EP_UNHEALTHY: entry('health', (p: { reason: S }) => `unhealthy: ${p.reason}`,
    'check that the agent or coordinator is running and read its log for the cause'),
} as const;

export type Catalogue = typeof CATALOGUE;
export type ErrorCode = keyof Catalogue;
export type ParamsOf<C extends ErrorCode> = Catalogue[C] extends CatalogueEntry<infer P> ? P : never;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(CATALOGUE, code);
}

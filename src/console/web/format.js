// Reading an operation for people: its state, the standard metadata fields
// (createTime, endTime, verb, target, statusMessage, requestedCancellation,
// apiVersion, whatever the metadata's type), a progress field, times and
// durations, rpc code names.

// google.rpc.Code, by number.
const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
  'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION',
  'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

export function codeName(code) {
  return CODE_NAMES[code ?? 0] || `code ${code}`;
}

export const STATES = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function stateOf(operation) {
  if (!operation.done) return 'running';
  if (!operation.error) return 'succeeded';
  return (operation.error.code ?? 0) === 1 ? 'cancelled' : 'failed';
}

// A field of the metadata by its JSON name, or by its proto name when the
// producer's JSON kept those.
function field(metadata, camel, snake) {
  if (!metadata || typeof metadata !== 'object') return undefined;
  return metadata[camel] ?? metadata[snake];
}

export function standardFields(operation) {
  const metadata = operation.metadata;
  return {
    createTime: parseTime(field(metadata, 'createTime', 'create_time')),
    endTime: parseTime(field(metadata, 'endTime', 'end_time')),
    verb: text(field(metadata, 'verb', 'verb')),
    target: text(field(metadata, 'target', 'target')),
    statusMessage: text(field(metadata, 'statusMessage', 'status_message')),
    apiVersion: text(field(metadata, 'apiVersion', 'api_version')),
    requestedCancellation:
      field(metadata, 'requestedCancellation', 'requested_cancellation') === true,
  };
}

// Any value as one line of text (a user's type may put an object anywhere).
export function text(value) {
  if (value === undefined || value === null || value === '') return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function percent(value) {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number)
    ? Math.min(100, Math.max(0, number))
    : null;
}

// A progress field in percent, as Google's APIs name it: progressPercent,
// percentComplete, or progress (a number, or a message with one of those).
export function progressOf(operation) {
  const metadata = operation.metadata;
  for (const [camel, snake] of [
    ['progressPercent', 'progress_percent'],
    ['percentComplete', 'percent_complete'],
    ['progress', 'progress'],
  ]) {
    const value = field(metadata, camel, snake);
    if (value && typeof value === 'object') {
      const inner = percent(field(value, 'progressPercent', 'progress_percent')
        ?? field(value, 'percentComplete', 'percent_complete'));
      if (inner !== null) return inner;
    } else if (percent(value) !== null) {
      return percent(value);
    }
  }
  return null;
}

export function parseTime(value) {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function localTime(date) {
  return LOCAL.format(date);
}

export function utcTime(date) {
  return `${date.toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

export function duration(ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function age(date, now) {
  const s = Math.max(0, Math.floor((now - date.getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

// How long the operation ran, or has been running; null when the metadata
// has no createTime.
export function runTime(fields, operation, now) {
  if (!fields.createTime) return null;
  const end = fields.endTime ? fields.endTime.getTime() : operation.done ? null : now;
  return end === null ? null : end - fields.createTime.getTime();
}

// `type.googleapis.com/pkg.Message` -> `pkg.Message`.
export function typeName(any) {
  const url = any && typeof any === 'object' ? any['@type'] : undefined;
  if (typeof url !== 'string') return '';
  return url.slice(url.lastIndexOf('/') + 1);
}

export function lastSegment(name) {
  return name.slice(name.lastIndexOf('/') + 1);
}

// `projects/p/locations/l/operations/x` -> `projects/p/locations/l`.
export function parentOf(name) {
  const at = name.lastIndexOf('/operations/');
  return at < 0 ? '' : name.slice(0, at);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

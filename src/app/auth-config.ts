// The app's authentication config: auth/providers.json (an object keyed by provider name, each
// { name, type, disabled, config, secret_config, metadata_fields }) and auth/custom_user_data.json.
// Read from the app folder (fn dev) or from a deployment's copy of the files (fn serve). Loading
// never throws on bad user data: a file that cannot be used is reported in `problems`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripBom } from '../manifest/text.js';

export interface AuthProvider {
  name: string;
  type: string;
  disabled: boolean;
  config: Record<string, unknown>;
  /** config key -> secret name(s) (e.g. signingKeys: ["jwt-key"]). */
  secretConfig: Record<string, unknown>;
  metadataFields: { required: boolean; name: string; fieldName?: string }[];
}

export interface CustomUserData {
  enabled: boolean;
  serviceName: string;
  databaseName: string;
  collectionName: string;
  userIdField: string;
  onUserCreationFunctionName?: string;
}

export interface AuthConfig {
  providers: Record<string, AuthProvider>;
  customUserData?: CustomUserData;
  /** Secrets by name (fn dev: .fn/secrets.json), for secret_config. */
  secrets: Record<string, unknown>;
  problems: string[];
}

/** The files of auth/ a deployment carries, by path from the app root. */
export const AUTH_FILES = ['auth/providers.json', 'auth/custom_user_data.json'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The auth config of an app folder. */
export function loadAuthConfig(root: string): AuthConfig {
  const read = (rel: string): string | undefined => {
    try {
      return readFileSync(join(root, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
  let secrets: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(read('.fn/secrets.json') ?? '{}') as unknown;
    // fn secrets set writes { secrets: { <name>: { value, updatedAt } } }; the older flat form is { <name>: <value> }.
    if (isRecord(parsed) && isRecord(parsed.secrets))
      secrets = Object.fromEntries(
        Object.entries(parsed.secrets).flatMap(([name, r]) => (isRecord(r) && typeof r.value === 'string' ? [[name, r.value]] : [])),
      );
    else if (isRecord(parsed)) secrets = parsed;
  } catch {}
  return authConfigOf(Object.fromEntries(AUTH_FILES.flatMap((f) => (read(f) === undefined ? [] : [[f, read(f)!]]))), secrets);
}

/** The files of auth/ of an app folder, by path (what push deploys). */
export function readAuthFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of AUTH_FILES) {
    try {
      out[rel] = readFileSync(join(root, rel), 'utf8');
    } catch {}
  }
  return out;
}

/** The auth config of auth/ files given as texts by path. */
export function authConfigOf(files: Record<string, string>, secrets: Record<string, unknown> = {}): AuthConfig {
  const problems: string[] = [];
  const parse = (rel: string): unknown => {
    const text = files[rel];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(stripBom(text)) as unknown;
    } catch (error) {
      problems.push(`${rel} is not valid JSON: ${(error as Error).message}`);
      return undefined;
    }
  };
  const providers: Record<string, AuthProvider> = {};
  const raw = parse('auth/providers.json');
  if (raw !== undefined && !isRecord(raw)) problems.push('auth/providers.json must be an object keyed by provider name');
  if (isRecord(raw)) {
    for (const [key, value] of Object.entries(raw)) {
      if (!isRecord(value)) {
        problems.push(`auth/providers.json: "${key}" must be an object`);
        continue;
      }
      const type = typeof value.type === 'string' ? value.type : key;
      const name = typeof value.name === 'string' ? value.name : key;
      const fields = Array.isArray(value.metadata_fields) ? value.metadata_fields : [];
      providers[name] = {
        name,
        type,
        disabled: value.disabled === true,
        config: isRecord(value.config) ? value.config : {},
        secretConfig: isRecord(value.secret_config) ? value.secret_config : {},
        metadataFields: fields
          .filter(isRecord)
          .flatMap((f) =>
            typeof f.name === 'string'
              ? [{ required: f.required === true, name: f.name, ...(typeof f.field_name === 'string' ? { fieldName: f.field_name } : {}) }]
              : [],
          ),
      };
    }
  }
  let customUserData: CustomUserData | undefined;
  const cud = parse('auth/custom_user_data.json');
  if (isRecord(cud) && cud.enabled === true) {
    const str = (k: string) => (typeof cud[k] === 'string' && cud[k] !== '' ? cud[k] : undefined);
    const serviceName = str('mongo_service_name');
    const databaseName = str('database_name');
    const collectionName = str('collection_name');
    const userIdField = str('user_id_field');
    if (!serviceName || !databaseName || !collectionName || !userIdField)
      problems.push(
        'auth/custom_user_data.json is enabled but lacks mongo_service_name, database_name, collection_name or user_id_field: custom user data is off',
      );
    else
      customUserData = {
        enabled: true,
        serviceName,
        databaseName,
        collectionName,
        userIdField,
        ...(str('on_user_creation_function_name') ? { onUserCreationFunctionName: str('on_user_creation_function_name')! } : {}),
      };
  }
  return { providers, ...(customUserData ? { customUserData } : {}), secrets, problems };
}

/** The files that may name the origins whose pages may call the app, the newer first. */
export const ORIGIN_FILES = ['realm_config.json', 'root_config.json'] as const;

/**
 * The origins whose pages may call the app: `allowed_request_origins` of realm_config.json (or the
 * older root_config.json), given as texts by path. A file that is not JSON gives none.
 */
export function allowedOriginsOf(files: Record<string, string>): string[] {
  for (const file of ORIGIN_FILES) {
    const text = files[file];
    if (text === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(stripBom(text));
    } catch {
      continue;
    }
    const origins = isRecord(parsed) ? parsed.allowed_request_origins : undefined;
    if (Array.isArray(origins)) return origins.filter((o): o is string => typeof o === 'string' && o !== '');
  }
  return [];
}

/** The origins of a folder's app (allowedOriginsOf its realm_config.json or root_config.json). */
export function readAllowedOrigins(root: string): string[] {
  return allowedOriginsOf(readOriginFiles(root));
}

/** realm_config.json and root_config.json of a folder, as texts by path (fn push sends them with auth/). */
export function readOriginFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of ORIGIN_FILES) {
    try {
      out[rel] = readFileSync(join(root, rel), 'utf8');
    } catch {
      // Absent: nothing to send.
    }
  }
  return out;
}

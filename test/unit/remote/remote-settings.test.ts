// src/project/remote-settings.ts: where invoke talks to. Flags > FN_* environment > the remote of
// fn.config.json (--remote <name>, default "local") > http://127.0.0.1:8787; the app id the same
// way, then the app's own id. Unknown remotes and bad URLs are usage errors (exit 2).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FnError } from '../../../src/errors.js';
import type { Project } from '../../../src/project/load-project.js';
import { bindServiceKey } from '../../../src/project/credentials.js';
import { DEFAULT_URL, missingKeyError, resolveRemoteSettings } from '../../../src/project/remote-settings.js';

type Remotes = Record<string, { url: string; appId?: string }>;

/** Only what resolveRemoteSettings reads of a project: its config's remotes and its app id. */
const project = (appId: string, remotes?: Remotes): Project => ({ appId, config: remotes ? { remotes } : {} }) as unknown as Project;

const REMOTES: Remotes = {
  local: { url: 'http://127.0.0.1:9000' },
  staging: { url: 'https://staging.example.com/', appId: 'shop-staging' },
};

const usageError = (run: () => unknown): FnError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(FnError);
    expect((error as FnError).code).toBe('USAGE');
    expect((error as FnError).exitCode).toBe(2);
    return error as FnError;
  }
  throw new Error('expected a usage error');
};

describe('resolveRemoteSettings: defaults', () => {
  it('with nothing: the default local URL, no app id, no secrets', () => {
    expect(resolveRemoteSettings({}, {}, undefined)).toEqual({
      url: DEFAULT_URL,
      appId: undefined,
      urlSource: 'the default',
      isDefaultLocal: true,
      token: undefined,
      serviceKey: undefined,
    });
    expect(DEFAULT_URL).toBe('http://127.0.0.1:8787');
  });

  it("in an app with no remotes: the default URL and the app's id", () => {
    expect(resolveRemoteSettings({}, {}, project('shop'))).toMatchObject({ url: DEFAULT_URL, appId: 'shop', isDefaultLocal: true });
  });

  it('uses the "local" remote of fn.config.json by default, and is still the default local', () => {
    expect(resolveRemoteSettings({}, {}, project('shop', REMOTES))).toMatchObject({
      url: 'http://127.0.0.1:9000',
      appId: 'shop',
      urlSource: 'remote "local" of fn.config.json',
      isDefaultLocal: true,
    });
  });
});

describe('resolveRemoteSettings: --remote <name>', () => {
  it("takes the named remote's URL (trailing slash stripped) and app id", () => {
    expect(resolveRemoteSettings({ remote: 'staging' }, {}, project('shop', REMOTES))).toMatchObject({
      url: 'https://staging.example.com',
      appId: 'shop-staging',
      urlSource: 'remote "staging" of fn.config.json',
      isDefaultLocal: false,
    });
  });

  it("falls back to the app's id when the remote has none", () => {
    expect(resolveRemoteSettings({ remote: 'local' }, {}, project('shop', REMOTES)).appId).toBe('shop');
  });

  it('refuses an unknown remote, listing the known ones', () => {
    const error = usageError(() => resolveRemoteSettings({ remote: 'prod' }, {}, project('shop', REMOTES)));
    expect(error.message).toBe('there is no remote "prod" in fn.config.json');
    expect(error.hint).toBe('its remotes: local, staging');
  });

  it('refuses a remote when there are none, or no app at all, saying how to add one', () => {
    for (const p of [project('shop'), undefined]) {
      const error = usageError(() => resolveRemoteSettings({ remote: 'staging' }, {}, p));
      expect(error.hint).toContain('"remotes"');
    }
  });

  it('does not take a remote name from the prototype chain', () => {
    usageError(() => resolveRemoteSettings({ remote: 'toString' }, {}, project('shop', REMOTES)));
    usageError(() => resolveRemoteSettings({ remote: '__proto__' }, {}, project('shop', REMOTES)));
  });
});

describe('resolveRemoteSettings: precedence', () => {
  const env = { FN_URL: 'http://env.example.com:1234', FN_APP_ID: 'env-app', FN_TOKEN: 'env-token', FN_SERVICE_KEY: 'env-key' };

  it('FN_* beat fn.config.json and the app', () => {
    expect(resolveRemoteSettings({}, env, project('shop', REMOTES))).toEqual({
      url: 'http://env.example.com:1234',
      appId: 'env-app',
      urlSource: 'FN_URL',
      isDefaultLocal: false,
      token: 'env-token',
      serviceKey: 'env-key',
      serviceKeySource: 'FN_SERVICE_KEY',
    });
  });

  it('flags beat FN_*', () => {
    const flags = { url: 'http://flag.example.com', appId: 'flag-app', token: 'flag-token', serviceKey: 'flag-key' };
    expect(resolveRemoteSettings(flags, env, project('shop', REMOTES))).toEqual({
      url: 'http://flag.example.com',
      appId: 'flag-app',
      urlSource: '--url',
      isDefaultLocal: false,
      token: 'flag-token',
      serviceKey: 'flag-key',
      serviceKeySource: '--service-key',
    });
  });

  it("a remote's app id beats the app's, FN_APP_ID beats the remote's, --app-id beats both", () => {
    const p = project('shop', REMOTES);
    expect(resolveRemoteSettings({ remote: 'staging' }, {}, p).appId).toBe('shop-staging');
    expect(resolveRemoteSettings({ remote: 'staging' }, { FN_APP_ID: 'env-app' }, p).appId).toBe('env-app');
    expect(resolveRemoteSettings({ remote: 'staging', appId: 'flag-app' }, { FN_APP_ID: 'env-app' }, p).appId).toBe('flag-app');
  });

  it('--url with the default remote is not the default local (no "is fn dev running?" hint)', () => {
    expect(resolveRemoteSettings({ url: 'http://127.0.0.1:8787' }, {}, undefined).isDefaultLocal).toBe(false);
  });

  it('treats empty FN_* variables as unset', () => {
    const s = resolveRemoteSettings({}, { FN_URL: '', FN_APP_ID: '', FN_TOKEN: '', FN_SERVICE_KEY: '' }, project('shop', REMOTES));
    expect(s).toMatchObject({ url: 'http://127.0.0.1:9000', appId: 'shop', token: undefined, serviceKey: undefined, isDefaultLocal: true });
  });

  it('reads secrets only from flags and the environment', () => {
    const remotes = { local: { url: 'http://127.0.0.1:9000', token: 'config-token', serviceKey: 'config-key' } } as unknown as Remotes;
    expect(resolveRemoteSettings({}, {}, project('shop', remotes))).toMatchObject({ token: undefined, serviceKey: undefined });
  });
});

describe('resolveRemoteSettings: URLs', () => {
  it.each([
    ['http://127.0.0.1:8787/', 'http://127.0.0.1:8787'],
    ['http://127.0.0.1:8787///', 'http://127.0.0.1:8787'],
    ['https://h.example.com/prefix/', 'https://h.example.com/prefix'],
    ['http://h.example.com/prefix', 'http://h.example.com/prefix'],
  ])('strips trailing slashes: %s → %s', (given, url) => {
    expect(resolveRemoteSettings({ url: given }, {}, undefined).url).toBe(url);
    expect(resolveRemoteSettings({}, { FN_URL: given }, undefined).url).toBe(url);
    expect(resolveRemoteSettings({}, {}, project('a', { local: { url: given } })).url).toBe(url);
  });

  it.each(['127.0.0.1:8787', 'not a url', 'ftp://example.com', 'file:///tmp/x', 'localhost'])(
    'refuses %s, naming where it came from',
    (bad) => {
      expect(usageError(() => resolveRemoteSettings({ url: bad }, {}, undefined)).message).toBe(
        `${JSON.stringify(bad)} (from --url) is not an http(s) URL`,
      );
      expect(usageError(() => resolveRemoteSettings({}, { FN_URL: bad }, undefined)).message).toContain('(from FN_URL)');
      expect(usageError(() => resolveRemoteSettings({ remote: 'x' }, {}, project('a', { x: { url: bad } }))).message).toContain(
        '(from remote "x" of fn.config.json)',
      );
    },
  );
});

describe('resolveRemoteSettings: the running fn dev of the app (.fn/dev.json)', () => {
  const dev = { url: 'http://127.0.0.1:40123', appId: 'shop-dev', serviceKey: 'dev-key', pid: 1 };

  it('with nothing given: its URL, app id and key', () => {
    expect(resolveRemoteSettings({}, {}, project('shop'), dev)).toMatchObject({
      url: dev.url,
      appId: 'shop-dev',
      serviceKey: 'dev-key',
      serviceKeySource: 'fn dev',
      urlSource: 'the running fn dev (.fn/dev.json)',
      isDefaultLocal: true,
    });
  });

  it('comes before the "local" remote of fn.config.json, after --remote <name>', () => {
    expect(resolveRemoteSettings({}, {}, project('shop', REMOTES), dev).url).toBe(dev.url);
    expect(resolveRemoteSettings({ remote: 'local' }, {}, project('shop', REMOTES), dev)).toMatchObject({
      url: 'http://127.0.0.1:9000',
      serviceKey: undefined,
    });
    expect(resolveRemoteSettings({ remote: 'staging' }, {}, project('shop', REMOTES), dev)).toMatchObject({
      url: 'https://staging.example.com',
      serviceKey: undefined,
    });
  });

  it('its key goes only to its URL: not to --url, FN_URL or a remote elsewhere', () => {
    expect(resolveRemoteSettings({ url: 'http://127.0.0.1:9999' }, {}, project('shop'), dev).serviceKey).toBeUndefined();
    expect(resolveRemoteSettings({}, { FN_URL: 'https://evil.example.com' }, project('shop'), dev).serviceKey).toBeUndefined();
    expect(
      resolveRemoteSettings({ remote: 'other' }, {}, project('shop', { other: { url: 'http://127.0.0.1:40124' } }), dev).serviceKey,
    ).toBeUndefined();
  });

  it('its key does go to its URL however it was named (a trailing slash is the same URL)', () => {
    expect(resolveRemoteSettings({ url: `${dev.url}/` }, {}, project('shop'), dev)).toMatchObject({ serviceKey: 'dev-key', appId: 'shop' });
  });

  it('a key given by flag or FN_SERVICE_KEY wins, and says so', () => {
    expect(resolveRemoteSettings({ serviceKey: 'flag-key' }, {}, project('shop'), dev)).toMatchObject({
      serviceKey: 'flag-key',
      serviceKeySource: '--service-key',
    });
    expect(resolveRemoteSettings({ url: dev.url }, { FN_SERVICE_KEY: 'env-key' }, project('shop'), dev)).toMatchObject({
      serviceKey: 'env-key',
      serviceKeySource: 'FN_SERVICE_KEY',
    });
    // The URL came from .fn/dev.json, not from the user: FN_SERVICE_KEY stays home, fn dev's own key goes.
    expect(resolveRemoteSettings({}, { FN_SERVICE_KEY: 'env-key' }, project('shop'), dev)).toMatchObject({
      serviceKey: 'dev-key',
      serviceKeySource: 'fn dev',
    });
  });
});

describe('resolveRemoteSettings: a service key goes only where it was given for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fn-credentials-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'credentials.json');
  const evil = project('shop', { local: { url: 'https://evil.example.com' }, staging: { url: 'https://staging.example.com/' } });

  it('FN_SERVICE_KEY goes to --url, FN_URL and the default, never to a URL only fn.config.json names', () => {
    const env = { FN_SERVICE_KEY: 'env-key', FN_CREDENTIALS: file };
    expect(resolveRemoteSettings({ url: 'http://host:9000' }, env, evil, undefined).serviceKey).toBe('env-key');
    expect(resolveRemoteSettings({}, { ...env, FN_URL: 'http://host:9000' }, evil, undefined).serviceKey).toBe('env-key');
    expect(resolveRemoteSettings({}, env, project('shop'), undefined)).toMatchObject({ url: DEFAULT_URL, serviceKey: 'env-key' });
    for (const flags of [{}, { remote: 'local' }, { remote: 'staging' }]) {
      const s = resolveRemoteSettings(flags, env, evil, undefined);
      expect(s.serviceKey).toBeUndefined();
      expect(s.serviceKeyWithheld).toContain('fn.config.json');
      const error = missingKeyError(s);
      expect(error.message).toContain(`FN_SERVICE_KEY is not sent to ${s.url}`);
      expect(error.hint).toContain(`fn login --url ${s.url}`);
    }
  });

  it('a key bound with fn login goes to its URL, whatever names it, and only there', () => {
    bindServiceKey({ FN_CREDENTIALS: file }, 'https://STAGING.example.com/', 'bound-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const env = { FN_CREDENTIALS: file, FN_SERVICE_KEY: 'env-key' };
    expect(resolveRemoteSettings({ remote: 'staging' }, env, evil, undefined)).toMatchObject({
      serviceKey: 'bound-key',
      serviceKeySource: 'fn login',
    });
    expect(resolveRemoteSettings({ remote: 'local' }, env, evil, undefined).serviceKey).toBeUndefined();
    expect(
      resolveRemoteSettings({ url: 'https://staging.example.com:444' }, { FN_CREDENTIALS: file }, evil, undefined).serviceKey,
    ).toBeUndefined();
    // --service-key and FN_SERVICE_KEY with a typed URL come first.
    expect(resolveRemoteSettings({ url: 'https://staging.example.com', serviceKey: 'flag' }, env, evil, undefined).serviceKey).toBe('flag');
    expect(resolveRemoteSettings({ url: 'https://staging.example.com' }, env, evil, undefined).serviceKey).toBe('env-key');
    bindServiceKey({ FN_CREDENTIALS: file }, 'https://staging.example.com', undefined);
    expect(resolveRemoteSettings({ remote: 'staging' }, env, evil, undefined).serviceKey).toBeUndefined();
  });
});

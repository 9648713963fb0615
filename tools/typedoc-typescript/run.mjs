// `npm run docs`: typedoc on the TSDoc of src/, with the options of ../../typedoc.json.
//
// Why this package: the project compiles with TypeScript 7 (the native compiler), which has no
// JavaScript API for typedoc to load. This package depends on typedoc and on the TypeScript 5.9
// it supports; the root package.json installs it as a `file:` devDependency, so npm puts both in
// tools/typedoc-typescript/node_modules/, where typedoc's `import 'typescript'` finds 5.9 and
// not the root's 7. Arguments are passed on to typedoc (`npm run docs -- --watch`).
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const typedoc = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc')
const typescript = require('typescript/package.json').version
if (!typescript.startsWith('5.')) {
  console.error(`tools/typedoc-typescript: typedoc resolved TypeScript ${typescript}, expected 5.x (run npm install)`)
  process.exit(1)
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const run = spawnSync(process.execPath, [typedoc, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' })
process.exit(run.status ?? 1)

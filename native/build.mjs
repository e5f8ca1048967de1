/**
 * The install step (`npm ci` runs it as the package's `install` script): builds
 * native/build/Release/shared_copy.node with node-gyp. It never fails the install:
 * without the addon kmcl copies shared memory with `Uint8Array.set` (same bytes, slower).
 * `KMCL_NATIVE=0` in the environment skips the build.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Says why there is no addon, in one line, and ends the install step successfully. */
function withoutAddon(reason) {
  process.stderr.write(`kmcl: native copy not built (${reason}); large shared-memory copies use JavaScript\n`);
  process.exit(0);
}

/** The line of node-gyp's output that says what went wrong: a compiler error, else gyp's own. */
function firstError(output) {
  const lines = output.split('\n');
  const compiler = lines.find((line) => /\berror:/i.test(line) && !line.startsWith('gyp'));
  const gyp = lines.find((line) => line.startsWith('gyp ERR! stack Error:'));
  return (compiler ?? gyp)?.replace(/^gyp ERR! stack Error:\s*/, '').trim();
}

if (process.env.KMCL_NATIVE === '0') withoutAddon('KMCL_NATIVE=0');

// Inside an npm script npm names the node-gyp it bundles; outside one, try node-gyp on PATH.
const bundled = process.env.npm_config_node_gyp;
const [command, args] = bundled ? [process.execPath, [bundled, 'rebuild']] : ['node-gyp', ['rebuild']];
const build = spawnSync(command, args, {
  cwd: fileURLToPath(new URL('.', import.meta.url)),
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
  timeout: 300_000,
});
if (build.error) withoutAddon(build.error.code === 'ENOENT' ? `${command} not found` : build.error.message);
if (build.status !== 0) {
  withoutAddon(firstError(`${build.stdout}\n${build.stderr}`) ?? `node-gyp exited with ${build.status ?? build.signal}`);
}

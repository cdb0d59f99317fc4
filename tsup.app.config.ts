import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { defineConfig, type Options } from 'tsup';

export interface AppBuildChoices {
  /**
   * Bundle the npm dependencies too, all but these (native addons, packages that read their own
   * files, code loaded only on demand). One script instead of hundreds of modules: Node's loaders
   * resolve, read and wrap each module at start, which costs an idle app megabytes of memory (and
   * warms V8's optimising compiler for the loader itself) and the start its time.
   */
  bundleDependenciesExcept?: readonly string[];
  /**
   * Bundled packages that read files of their own folder through `__dirname`: in their bundled
   * modules `__dirname` is, at run time, the same folder of the installed package (so the package
   * stays a dependency, for those files).
   */
  ownFolderAtRunTime?: readonly string[];
  /**
   * Node builtins that a bundled package requires when it loads but uses only on some paths, per
   * package: there the builtin loads at the first use of one of its properties instead. For example
   * Fastify's server module requires `https` and `http2` for servers the core never makes; each
   * costs an idle app one to two MiB.
   */
  builtinsOnFirstUse?: Readonly<Record<string, readonly string[]>>;
}

/** A bundled CommonJS dependency calls `require` (builtins, its own files); ESM has none, so the bundle makes one. */
const REQUIRE_IN_ESM =
  "import { createRequire as __growoffCreateRequire } from 'node:module';\nconst require = __growoffCreateRequire(import.meta.url);";

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Regular-expression source for an installed package's folder: `…/node_modules/<name>/`, either separator. */
const packageFolder = (name: string) =>
  `[\\\\/]node_modules[\\\\/]${escapeRegExp(name).replace('/', '[\\\\/]')}[\\\\/]`;

/**
 * An esbuild plugin: each module of `packages` that uses `__dirname` gets, instead of the build
 * machine's path (or none: the bundle is ESM), its folder inside the package as installed where
 * the bundle runs, resolved through the bundle's `require`.
 */
function ownFolderAtRunTime(packages: readonly string[]): Plugin {
  return {
    name: 'own-folder-at-run-time',
    setup(build) {
      for (const name of packages) {
        const inPackage = new RegExp(`${packageFolder(name)}(.+)\\.c?js$`);
        build.onLoad({ filter: inPackage }, async (args) => {
          const inside = inPackage.exec(args.path)![1]!.replaceAll('\\', '/');
          // A package nested in its own node_modules is another package.
          if (inside.includes('node_modules/')) return undefined;
          const source = await readFile(args.path, 'utf8');
          if (!source.includes('__dirname')) return undefined;
          const folder = posix.dirname(inside);
          const runTime = `require('node:path').join(require('node:path').dirname(require.resolve(${JSON.stringify(`${name}/package.json`)})), ${JSON.stringify(folder)})`;
          return {
            contents: `var __dirname = ${runTime};\n${source}`,
            loader: 'js',
            resolveDir: dirname(args.path),
          };
        });
      }
    },
  };
}

/**
 * An esbuild plugin: inside each package of `byPackage`, a `require` of one of its builtins gets an
 * object that loads the builtin at its first property access and then hands out its properties.
 * Anywhere else the builtins are required as usual.
 */
function builtinsOnFirstUse(byPackage: Readonly<Record<string, readonly string[]>>): Plugin {
  return {
    name: 'builtins-on-first-use',
    setup(build) {
      for (const [name, builtins] of Object.entries(byPackage)) {
        const inPackage = new RegExp(packageFolder(name));
        const required = new RegExp(`^(node:)?(${builtins.map(escapeRegExp).join('|')})$`);
        build.onResolve({ filter: required }, (args) => {
          if (args.kind !== 'require-call' || !inPackage.test(args.importer)) return undefined;
          return { path: required.exec(args.path)![2]!, namespace: 'builtin-on-first-use' };
        });
      }
      build.onLoad({ filter: /.*/, namespace: 'builtin-on-first-use' }, (args) => ({
        contents: `var builtin;\nmodule.exports = new Proxy({}, { get: (_, key) => (builtin ??= require(${JSON.stringify(`node:${args.path}`)}))[key] });\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * An esbuild plugin: a bundled package's `debug` (the npm package: mqtt.js, mqtt-packet) is, unless
 * `DEBUG` is set when the app starts, a namespace factory whose loggers do nothing. The package's own
 * loggers take `...args`, so every call made an array even with the namespace off: about 3 KB of
 * garbage per MQTT command in the core, from a dozen calls per packet. With `DEBUG` set the package
 * itself loads, and logs as always (`DEBUG=mqttjs* node dist/main.js`).
 */
function debugOffUnlessAsked(): Plugin {
  return {
    name: 'debug-off-unless-asked',
    setup(build) {
      build.onResolve({ filter: /^debug$/ }, async (args) => {
        if (args.pluginData === 'debug-itself' || !/[\\/]node_modules[\\/]/.test(args.importer))
          return undefined;
        const itself = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'debug-itself',
        });
        if (itself.errors.length > 0) return { errors: itself.errors };
        return { path: itself.path, namespace: 'debug-off-unless-asked' };
      });
      build.onLoad({ filter: /.*/, namespace: 'debug-off-unless-asked' }, (args) => ({
        contents: [
          'function off() {}',
          'function quiet(namespace) {',
          '  return Object.assign(function debug() {}, {',
          '    namespace, enabled: false, useColors: false, diff: 0, color: 0, log: off,',
          "    extend: (sub, delimiter) => quiet(namespace + (delimiter === undefined ? ':' : delimiter) + sub),",
          '    destroy: () => false,',
          '  });',
          '}',
          'Object.assign(quiet, { enable: off, disable: () => "", enabled: () => false, names: [], skips: [], formatters: {}, log: off, coerce: (v) => v });',
          `module.exports = process.env.DEBUG ? require(${JSON.stringify(args.path)}) : quiet;`,
        ].join('\n'),
        loader: 'js',
        resolveDir: dirname(args.path),
      }));
    },
  };
}

/**
 * The build of the app in `packageDir`: src/main.ts → dist/main.js, the entry its image runs.
 * Workspace libraries are bundled into the app; npm dependencies (the app's own, which include
 * those of the libraries it bundles) stay external unless `choices` bundles them. The package's
 * version is injected as `__GROWOFF_APP_VERSION__` (read by `@growoff/app-version`), so the bundle
 * reports it under plain `node`, where npm sets no `npm_package_version`.
 */
export function appBuildOptions(packageDir: string, choices: AppBuildChoices = {}): Options {
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const except = choices.bundleDependenciesExcept;
  return {
    entry: ['src/main.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    outDir: 'dist',
    clean: true,
    sourcemap: true,
    define: { __GROWOFF_APP_VERSION__: JSON.stringify(version) },
    ...(except === undefined
      ? { noExternal: [/^@growoff\//] }
      : {
          // Everything but the listed packages (and their subpaths); node builtins stay imports.
          noExternal: [new RegExp(`^(?!(${except.map(escapeRegExp).join('|')})(/|$))`)],
          external: [...except],
          banner: { js: REQUIRE_IN_ESM },
          // tsup would resolve every `node:` builtin before the plugins below can see it.
          removeNodeProtocol: false,
          esbuildPlugins: [
            ownFolderAtRunTime(choices.ownFolderAtRunTime ?? []),
            builtinsOnFirstUse(choices.builtinsOnFirstUse ?? {}),
            debugOffUnlessAsked(),
          ],
          // Without comments and layout the bundle's source, which V8 keeps in the heap, is half the
          // size, and ASCII (one byte a character: a single non-Latin-1 character in a comment would
          // make the whole source a two-byte string). Names stay, so stacks read as before.
          esbuildOptions(options) {
            options.minifyWhitespace = true;
            options.minifySyntax = true;
          },
        }),
  };
}

// tsup runs in the app's directory (its package script), next to its package.json.
export default defineConfig(() => appBuildOptions(process.cwd()));

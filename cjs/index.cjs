'use strict';
/**
 * `require('tsplay')` from a CommonJS project. tsplay is an ES module; Node >= 20.19 (the version
 * tsplay needs) can require() it, so this loads it. Where that fails, the error says what to do
 * instead of Node's ERR_REQUIRE_ESM / ERR_PACKAGE_PATH_NOT_EXPORTED.
 */
try {
  module.exports = require('../dist/index.js');
} catch (e) {
  const code = e && e.code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    throw new Error(
      `tsplay is an ES module and this Node (${process.version}) cannot require() it: use Node >= 20.19, ` +
        "or load it with `const tsplay = await import('tsplay')` (dynamic import works in CommonJS too).",
      { cause: e },
    );
  }
  throw e;
}

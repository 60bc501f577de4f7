// Written by .ci/entry-guards.mjs: do not edit. Checks that dist/ is built, then loads it.
'use strict';
require('./built.cjs').assertBuilt('http/axios.js');
module.exports = require('../../dist/http/axios.js');

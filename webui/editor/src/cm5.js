// codemirror-rego registers Styra's Rego mode through CodeMirror 5's global
// API (CodeMirror.defineMode). The build points the package's
// require("codemirror") here instead, so that the mode's tokenizer is
// captured and runs under CodeMirror 6's StreamLanguage, which takes
// CodeMirror 5 stream modes as they are.
"use strict";

const modes = {};

module.exports = {
  modes,
  defineMode(name, factory) {
    modes[name] = factory;
  },
  defineMIME() {},
};

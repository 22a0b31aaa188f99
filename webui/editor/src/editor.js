// The policy editor of stepgate's admin UI. It enhances every
// <textarea data-editor="rego|json|text"> with CodeMirror 6 and keeps the
// textarea as the form field: the page works without this script, and with
// it the form still posts the textarea, which the editor writes back into
// on submit. Compile-error links (<a data-file="textarea-id" data-line="N">)
// select their line in the editor.
import "./adopt.js";
import { EditorSelection, EditorState, RangeSetBuilder } from "@codemirror/state";
import {
  Decoration, EditorView, crosshairCursor, drawSelection, dropCursor, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers, rectangularSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentLess, insertTab } from "@codemirror/commands";
import { highlightSelectionMatches, search, searchKeymap } from "@codemirror/search";
import {
  HighlightStyle, StreamLanguage, bracketMatching, defaultHighlightStyle, indentUnit, syntaxHighlighting,
} from "@codemirror/language";
import { json } from "@codemirror/lang-json";
import { tags } from "@lezer/highlight";
import cm5 from "./cm5.js";
import "codemirror-rego/mode.js";

const rego = (() => {
  const mode = cm5.modes.rego({}, {});
  return StreamLanguage.define({
    name: "rego",
    startState: mode.startState,
    token: mode.token,
    languageData: { commentTokens: { line: "#" } },
  });
})();

// Built-in functions get a colour of their own; the rest is CodeMirror's
// default style.
const regoStyle = HighlightStyle.define([
  { tag: tags.standard(tags.variableName), color: "#0b5394" },
  { tag: tags.number, color: "#164" },
]);

function language(kind) {
  switch (kind) {
    case "rego": return [rego, syntaxHighlighting(regoStyle)];
    case "json": return [json()];
    default: return [];
  }
}

// errorLines marks the lines the page lists compile errors for.
function errorLines(id) {
  const lines = new Set();
  document.querySelectorAll("a[data-line]").forEach((a) => {
    if (a.dataset.file === id) { lines.add(parseInt(a.dataset.line, 10)); }
  });
  return EditorView.decorations.of((view) => {
    const b = new RangeSetBuilder();
    [...lines].sort((x, y) => x - y).forEach((n) => {
      if (n >= 1 && n <= view.state.doc.lines) {
        b.add(view.state.doc.line(n).from, view.state.doc.line(n).from, Decoration.line({ class: "cm-error-line" }));
      }
    });
    return b.finish();
  });
}

function label(ta) {
  const l = ta.id && document.querySelector(`label[for="${CSS.escape(ta.id)}"]`);
  return l ? l.textContent.trim() : ta.name;
}

const views = new Map();

function enhance(ta) {
  let edited = false;
  const view = new EditorView({
    parent: ta.parentNode,
    state: EditorState.create({
      doc: ta.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), history(), drawSelection(), dropCursor(),
        EditorState.allowMultipleSelections.of(true), rectangularSelection(), crosshairCursor(),
        highlightActiveLine(), highlightSelectionMatches(), bracketMatching(), search({ top: true }),
        // Rego is indented with tabs (opa fmt): Tab inserts one, Shift-Tab
        // outdents. Escape then Tab leaves the editor (CodeMirror's tab
        // focus mode), so keyboard users are never trapped.
        indentUnit.of("\t"), EditorState.tabSize.of(4),
        keymap.of([{ key: "Tab", run: insertTab, shift: indentLess }, ...searchKeymap, ...historyKeymap, ...defaultKeymap]),
        language(ta.dataset.editor), syntaxHighlighting(defaultHighlightStyle),
        errorLines(ta.id),
        // An explicit tabindex makes the content a focusable descendant of
        // the scroller for every checker (axe counts contenteditable alone
        // as not focusable), so the scroll area is keyboard-reachable.
        EditorView.contentAttributes.of({ "aria-label": label(ta), tabindex: "0" }),
        EditorView.updateListener.of((u) => { if (u.docChanged) { edited = true; } }),
      ],
    }),
  });
  ta.after(view.dom);
  ta.style.display = "none";
  view.dom.dataset.for = ta.id;
  views.set(ta.id, view);
  if (ta.form) {
    ta.form.addEventListener("submit", () => {
      // Only an edit is written back, so what was typed into the textarea
      // itself (by a test, an extension) is not overwritten.
      if (edited) { ta.value = view.state.doc.toString(); }
    });
  }
}

function jump(view, n) {
  const line = view.state.doc.line(Math.min(Math.max(n, 1), view.state.doc.lines));
  view.dispatch({
    selection: EditorSelection.range(line.from, line.to),
    effects: EditorView.scrollIntoView(line.from, { y: "center" }),
  });
  view.focus();
}

document.querySelectorAll("textarea[data-editor]").forEach(enhance);

// Capture the click before app.js's textarea handler sees it.
document.addEventListener("click", (ev) => {
  const a = ev.target.closest && ev.target.closest("a[data-line]");
  const view = a && views.get(a.dataset.file);
  if (!view) { return; }
  ev.preventDefault();
  ev.stopPropagation();
  jump(view, parseInt(a.dataset.line, 10));
}, true);

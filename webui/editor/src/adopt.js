// CodeMirror styles itself at run time through style-mod, which puts a
// <style> element into the document: the admin UI's CSP (style-src 'self',
// no 'unsafe-inline', no nonces) blocks that. style-mod uses a constructed
// stylesheet (adoptedStyleSheets, which style-src does not govern) for
// shadow roots, so the document is handed to it as a root without <head>
// whose adoptedStyleSheets are the document's own.
import { StyleModule } from "style-mod";

const mount = StyleModule.mount;
const roots = new WeakMap();

StyleModule.mount = function (root, modules, options) {
  if (root.nodeType !== Node.DOCUMENT_NODE || !("adoptedStyleSheets" in root)) {
    return mount.call(this, root, modules, options);
  }
  const doc = root;
  let proxy = roots.get(doc);
  if (!proxy) {
    proxy = {
      ownerDocument: doc,
      get adoptedStyleSheets() { return doc.adoptedStyleSheets; },
      set adoptedStyleSheets(sheets) { doc.adoptedStyleSheets = sheets; },
    };
    roots.set(doc, proxy);
  }
  return mount.call(this, proxy, modules, options);
};

// The API docs page, served as /api/docs/docs.js (no inline script: see the CSP).
(async function () {
  const main = document.getElementById('main');
  const el = (tag, props, ...kids) => { const e = document.createElement(tag); Object.assign(e, props || {}); kids.forEach(k => e.append(k)); return e; };
  let doc;
  try { doc = await (await fetch('/api/openapi.json')).json(); }
  catch (e) { main.textContent = 'Kunde inte läsa API-beskrivningen / Could not load the API description: ' + e; return; }
  main.textContent = '';
  main.append(el('p', { textContent: doc.info.description || '' }));
  main.append(el('p', { textContent: 'OpenAPI ' + doc.openapi + ' · version ' + doc.info.version }));
  const resolve = (s) => { if (s && s.$ref) { const n = s.$ref.split('/').pop(); return (doc.components.schemas || {})[n] || s; } return s; };
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || 'other';
      (byTag[tag] = byTag[tag] || []).push([method, path, op]);
    }
  }
  for (const [tag, ops] of Object.entries(byTag)) {
    main.append(el('h2', { textContent: tag }));
    for (const [method, path, op] of ops) {
      const d = el('details');
      d.append(el('summary', {}, el('span', { className: 'm ' + method, textContent: method }), el('code', { textContent: path }), el('span', { textContent: op.summary || '' })));
      const body = el('div', { className: 'body' });
      if (op.description) body.append(el('p', { textContent: op.description }));
      if (op.parameters && op.parameters.length) {
        body.append(el('h4', { textContent: 'Parametrar / Parameters' }));
        body.append(el('pre', { textContent: op.parameters.map(p => p.in + ' ' + p.name + (p.required ? ' (required)' : '') + (p.description ? ' – ' + p.description : '')).join('\n') }));
      }
      const rb = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
      if (rb) {
        body.append(el('h4', { textContent: 'Begäran / Request body' }));
        body.append(el('pre', { textContent: JSON.stringify(resolve(rb.schema), null, 2) }));
      }
      body.append(el('h4', { textContent: 'Svar / Responses' }));
      body.append(el('pre', { textContent: Object.entries(op.responses || {}).map(([c, r]) => c + ' ' + (r.description || '')).join('\n') }));
      d.append(body);
      main.append(d);
    }
  }
})();

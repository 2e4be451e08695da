(async () => {
  const problems = [];
  const text = el => (el.textContent || '').trim();
  const short = s => s.length > 70 ? s.slice(0, 70) + '...' : s;

  const outputs = [...document.querySelectorAll('em')]
    .filter(em => text(em).startsWith('Measured output of'));
  outputs.forEach((em, i) => {
    const pre = (em.closest('p') || em).previousElementSibling;
    const what = `measured output ${i + 1} ("${short(text(em))}")`;
    if (!pre || pre.tagName !== 'PRE') {
      problems.push(`${what} does not follow a <pre>`);
    } else if (text(pre.querySelector('code') || pre) === '') {
      problems.push(`${what} follows an empty <pre>`);
    }
  });

  const figures = [...document.querySelectorAll('figure.workbook-figure')];
  figures.forEach((figure, i) => {
    const svg = figure.querySelector('svg');
    const title = svg && svg.querySelector('title');
    if (!svg) {
      problems.push(`figure ${i + 1} has no <svg>`);
    } else if (!title || text(title) === '') {
      problems.push(`figure ${i + 1} has an <svg> without a <title> (or with an empty one)`);
    }
  });

  const here = new URL(location.href);
  here.hash = ''; here.search = '';
  const targets = new Map();
  const broken = [];
  let links = 0;
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    let url;
    try { url = new URL(href, location.href); } catch (e) {
      problems.push(`the link "${short(href)}" is not a URL`);
      continue;
    }
    if (url.origin !== location.origin) continue;
    links++;
    let fragment = url.hash.slice(1);
    try { fragment = decodeURIComponent(fragment); } catch (e) {}
    url.hash = ''; url.search = '';
    if (!targets.has(url.href)) targets.set(url.href, new Map());
    if (fragment) targets.get(url.href).set(fragment, href);
  }
  const path = u => new URL(u).pathname.replace(/^\//, '');
  for (const [target, fragments] of targets) {
    let doc = document;
    if (target !== here.href) {
      let response;
      try { response = await fetch(target, {cache: 'no-store'}); } catch (e) {
        problems.push(`the link to ${path(target)} cannot be fetched: ${e}`);
        continue;
      }
      if (response.status !== 200) {
        problems.push(`the link to ${path(target)} is broken (HTTP ${response.status})`);
        broken.push(target);
        continue;
      }
      if (fragments.size === 0) continue;
      doc = new DOMParser().parseFromString(await response.text(), 'text/html');
    }
    for (const [fragment, href] of fragments) {
      if (!doc.getElementById(fragment) && doc.getElementsByName(fragment).length === 0) {
        problems.push(`the link "${short(href)}" names no id "${fragment}" on ${path(target)}`);
      }
    }
  }
  return {outputs: outputs.length, figures: figures.length, links, problems, broken};
})()

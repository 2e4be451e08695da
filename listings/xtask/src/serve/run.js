// Run a listing from its page. Served only by `cargo xtask serve`, which
// adds this script (and the session's token) to the pages it serves; the
// published book has neither, so its output blocks offer nothing.
//
// Under each listing's output: a form made from the listing's own
// description of its flags, a Run and a Cancel button, the output as it is
// printed, then the verdict, the figures beside the book's, and every
// figure on the page that the listing feeds, drawn again by the server.
(() => {
  'use strict';
  const config = window.WORKBOOK_RUN;
  if (!config) return;
  const call = (path, init = {}) => fetch(`/__workbook/${path}`, {
    ...init,
    headers: {'X-Workbook-Token': config.token, 'Content-Type': 'application/json'},
  });
  const make = (tag, attributes = {}, ...children) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    element.append(...children);
    return element;
  };
  const integer = new Set(['u64', 'u32', 'u16', 'u8', 'i64', 'usize']);
  let running = null; // the listing running now, from any block of this page

  // `--name value`, `--name=value` and `--switch`, as measure.toml writes them.
  const parse = (args) => {
    const values = new Map();
    for (let i = 0; i < args.length; i += 1) {
      if (!args[i].startsWith('--')) continue;
      let [name, value] = args[i].slice(2).split(/=(.*)/s);
      if (value === undefined) {
        value = args[i + 1] !== undefined && !args[i + 1].startsWith('--') ? args[(i += 1)] : true;
      }
      values.set(name, values.has(name) ? `${values.get(name)},${value}` : value);
    }
    return values;
  };

  function setUp(marker) {
    const id = marker.dataset.listing;
    const details = make('details', {class: 'run-here'});
    const body = make('div', {class: 'run-body'});
    details.append(make('summary', {}, 'Run ', make('code', {}, id), ' on this machine'), body);
    marker.append(details);
    marker.hidden = false;
    let loaded = false;
    details.addEventListener('toggle', () => {
      if (details.open && !loaded) {
        loaded = true;
        load(id, body);
      }
    });
  }

  async function load(id, body) {
    const status = make('p', {class: 'run-status', role: 'status'},
      'Building the listing: the first time takes a minute or two…');
    body.append(status);
    try {
      const answer = await call(`flags?listing=${encodeURIComponent(id)}`);
      const data = await answer.json();
      if (!answer.ok) {
        status.textContent = data.error;
        return;
      }
      status.remove();
      body.append(...form(id, data));
    } catch (error) {
      status.textContent = `The server did not answer: ${error}`;
    }
  }

  function form(id, data) {
    const slug = id.replace('/', '-');
    const fields = make('form', {class: 'run-form', 'data-listing': id});
    const inputs = [];
    for (const flag of data.flags) {
      const inputId = `run-${slug}-${flag.name}`;
      let input;
      if (flag.type === 'bool') {
        input = make('input', {type: 'checkbox', id: inputId});
      } else if (flag.type === 'choice') {
        input = make('select', {id: inputId}, ...flag.choices.map((c) => make('option', {value: c}, c)));
      } else if (integer.has(flag.type) && !flag.list) {
        input = make('input', {type: 'number', id: inputId, step: '1', inputmode: 'numeric'});
        if (flag.min !== null) input.min = flag.min;
        if (flag.max !== null) input.max = flag.max;
      } else {
        input = make('input', {type: 'text', id: inputId});
      }
      input.dataset.flag = flag.name;
      const range = flag.min !== null && flag.max !== null ? ` (${flag.min} to ${flag.max})` : '';
      const list = flag.list ? ' (a list: a,b,c)' : '';
      fields.append(make('p', {},
        make('label', {for: inputId}, make('code', {}, `--${flag.name}`), ` ${flag.help}${range}${list}`),
        ' ', input));
      inputs.push({flag, input});
    }
    const fill = (args) => {
      const values = parse(args);
      for (const {flag, input} of inputs) {
        const value = values.has(flag.name) ? values.get(flag.name) : (flag.default ?? '');
        if (input.type === 'checkbox') input.checked = value === true || value === 'true';
        else input.value = value;
      }
    };
    const chosen = () => {
      const args = [];
      for (const {flag, input} of inputs) {
        if (input.type === 'checkbox') {
          if (input.checked && flag.default !== 'true') args.push(`--${flag.name}`);
          continue;
        }
        const value = input.value.trim();
        if (value === '' || value === flag.default) continue;
        const values = flag.list ? value.split(',').map((v) => v.trim()) : [value];
        for (const one of values) args.push(`--${flag.name}=${one}`);
      }
      return args;
    };
    fill(data.book);
    const button = (text, kind = 'button') => make('button', {type: kind}, text);
    const run = button('Run', 'submit');
    const cancel = button('Cancel');
    cancel.disabled = true;
    const bookSizes = button('The book’s sizes');
    const quickSizes = button('Quick sizes');
    bookSizes.addEventListener('click', () => fill(data.book));
    quickSizes.addEventListener('click', () => fill(data.quick));
    fields.append(make('p', {class: 'run-buttons'}, run, ' ', cancel, ' ', bookSizes, ' ', quickSizes));
    const status = make('p', {class: 'run-status', role: 'status'},
      `Runs on this machine, one at a time, stopped after ${data.limit_s} s. The book’s output above stays as it was: `,
      make('code', {}, `cargo xtask measure ${id}`), ' re-measures it for real.');
    const command = make('p', {class: 'run-command'});
    const output = make('pre', {class: 'run-output', role: 'log', tabindex: '0'});
    output.hidden = true;
    const verdict = make('p', {class: 'run-verdict'});
    const metrics = make('table', {class: 'run-metrics'});
    metrics.hidden = true;

    cancel.addEventListener('click', () => {
      call('cancel', {method: 'POST', body: '{}'});
    });
    const show = (message) => {
      if (message.kind === 'started') {
        command.replaceChildren('In a terminal: ', make('code', {}, message.command));
        output.dataset.group = message.group;
        output.dataset.started = performance.now();
        status.textContent = `Running, as process group ${message.group}…`;
      } else if (message.kind === 'stdout' || message.kind === 'stderr') {
        const line = make('span', {class: `run-${message.kind}`}, `${message.line}\n`);
        // How long after it was printed the line reached the page, in ms.
        line.dataset.late = Math.round(performance.now() - output.dataset.started - message.at_ms);
        output.append(line);
        output.scrollTop = output.scrollHeight;
      } else if (message.kind === 'tick') {
        status.textContent = `Running: ${message.elapsed_s} s…`;
      } else if (message.kind === 'done') {
        finish(message);
      }
    };
    const words = {
      held: 'The claim held on this machine',
      failed: 'The claim did not hold on this machine',
      skipped: 'Skipped: this machine lacks what the claim needs',
      unchecked: 'Nothing was checked: these flags leave nothing to check',
    };
    const finish = (done) => {
      status.textContent = `Ended after ${done.elapsed_s.toFixed(1)} s (${done.status}).`;
      verdict.className = `run-verdict run-${done.state}`;
      if (done.verdict) {
        verdict.replaceChildren(make('strong', {}, `${words[done.verdict.state] ?? done.verdict.state}: `),
          `${done.verdict.claim} (${done.verdict.evidence}).`);
      } else {
        verdict.replaceChildren(make('strong', {}, done.state === 'ended' ? 'It ended. ' : 'It did not finish: '),
          done.problem ?? 'It reports no verdict.');
      }
      if (done.verdict && done.problem && done.state !== 'failed') verdict.append(` ${done.problem}`);
      metrics.replaceChildren(make('tr', {}, make('th', {scope: 'col'}, 'figure'),
        make('th', {scope: 'col'}, 'this run'), make('th', {scope: 'col'}, 'the book')));
      for (const metric of done.metrics) {
        metrics.append(make('tr', {}, make('td', {}, make('code', {}, metric.name)),
          make('td', {}, metric.run), make('td', {}, metric.book ?? '—')));
      }
      metrics.hidden = done.metrics.length === 0;
      for (const drawn of done.figures) {
        const shown = [...document.querySelectorAll('figure.workbook-figure[data-figure]')]
          .find((f) => f.dataset.figure === drawn.spec);
        if (!shown) continue;
        if (drawn.html) {
          const holder = make('div');
          holder.innerHTML = drawn.html;
          const redrawn = holder.firstElementChild;
          redrawn.dataset.figure = drawn.spec;
          redrawn.classList.add('run-redrawn');
          shown.replaceWith(redrawn);
        } else {
          verdict.append(` A figure could not be drawn again: ${drawn.error}.`);
        }
      }
    };
    fields.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (running) {
        status.textContent = `${running} is running: wait for it, or cancel it.`;
        return;
      }
      running = id;
      run.disabled = true;
      cancel.disabled = false;
      output.replaceChildren();
      output.hidden = false;
      verdict.replaceChildren();
      metrics.hidden = true;
      status.textContent = 'Checking the flags…';
      const specs = [...document.querySelectorAll('figure.workbook-figure[data-figure]')]
        .map((f) => f.dataset.figure);
      try {
        const answer = await call('run', {
          method: 'POST',
          body: JSON.stringify({listing: id, args: chosen(), figures: specs}),
        });
        if (!answer.ok) {
          status.textContent = (await answer.json()).error;
          output.hidden = true;
          return;
        }
        const reader = answer.body.getReader();
        const decoder = new TextDecoder();
        let pending = '';
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          pending += decoder.decode(value, {stream: true});
          let end;
          while ((end = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, end);
            pending = pending.slice(end + 1);
            if (line) show(JSON.parse(line));
          }
        }
      } catch (error) {
        status.textContent = `The run's answer broke off: ${error}`;
      } finally {
        running = null;
        run.disabled = false;
        cancel.disabled = true;
      }
    });
    return [fields, status, command, output, verdict, metrics];
  }

  document.querySelectorAll('.workbook-run[data-listing]').forEach(setUp);
})();

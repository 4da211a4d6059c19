/**
 * The dashboard page: reads the API through the proxy that serves it (`/api/…`, GET only) and
 * builds every cell with textContent: nothing from the API is ever parsed as HTML.
 */
import {
  convergedText,
  countsText,
  deploymentDuration,
  displaySerial,
  durationText,
  expiry,
  isTerminal,
  jobFromHash,
  recentDeployments,
  shortArn,
  shortId,
  statusLevel,
  timeline,
} from './model.js';

const maxCertificatePages = 10;
const maxCertificatesForHistory = 25;
const deploymentsPerCertificate = 10;
const recentShown = 10;
const maxServerPages = 20;
const refreshSeconds = 30;
const refreshWhileRunningSeconds = 5;

/** One element with a class, text and children; attributes by setAttribute (never HTML). */
function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

function statusBadge(text, level) {
  return el('span', { className: `status ${level}`, text });
}

function sub(text) {
  return el('span', { className: 'sub', text });
}

const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** A <time> in local time with the zone; the ISO time as its datetime and title. */
function time(iso) {
  if (!iso) return el('span', { text: '' });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('span', { text: iso });
  return el('time', { text: timeFormat.format(date), attrs: { datetime: iso, title: iso } });
}

function jobLink(jobId, text = shortId(jobId)) {
  return el('a', {
    text,
    className: 'mono',
    attrs: { href: `#job=${encodeURIComponent(jobId)}`, title: `job ${jobId}` },
  });
}

function cell(...children) {
  return el('td', {}, ...children);
}

function emptyRow(tbody, columns, text) {
  tbody.replaceChildren(
    el('tr', {}, el('td', { className: 'empty', text, attrs: { colspan: String(columns) } })),
  );
}

class ApiError extends Error {}

/** GET one API route through the proxy; an error answer becomes an ApiError with its message. */
async function api(path) {
  const response = await fetch(`/api${path}`, { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) {
    const e = body?.error;
    throw new ApiError(e ? `${e.code}: ${e.message}` : `the API answered HTTP ${response.status}`);
  }
  return body;
}

/** `f` of each item, `size` at a time. */
async function inBatches(items, size, f) {
  const out = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  }
  return out;
}

const enc = encodeURIComponent;

async function certificates() {
  const items = [];
  let cursor;
  for (let page = 0; page < maxCertificatePages; page++) {
    const q = cursor === undefined ? '' : `&cursor=${enc(cursor)}`;
    const body = await api(`/v1/certificates?limit=100${q}`);
    items.push(...body.items);
    cursor = body.nextCursor;
    if (cursor === undefined) break;
  }
  return items;
}

/** A deployment with every page of its servers. */
async function deploymentWithServers(jobId) {
  const d = await api(`/v1/deployments/${enc(jobId)}`);
  let cursor = d.serversNextCursor;
  const servers = [...(d.servers ?? [])];
  for (let page = 0; cursor !== undefined && page < maxServerPages; page++) {
    const body = await api(`/v1/deployments/${enc(jobId)}/servers?limit=100&cursor=${enc(cursor)}`);
    servers.push(...body.items);
    cursor = body.nextCursor;
  }
  return { ...d, servers };
}

function renderCertificates(items) {
  const tbody = document.querySelector('#certificate-table tbody');
  if (items.length === 0) {
    emptyRow(tbody, 7, 'No certificate is managed yet: deploy one with acm-cert-export deploy.');
    return;
  }
  tbody.replaceChildren(
    ...items.map((c) => {
      const e = expiry(c.daysToExpiry);
      const conv = convergedText(c.servers);
      const outcome = c.lastOutcome
        ? cell(
            statusBadge(c.lastOutcome, statusLevel(c.lastOutcome)),
            c.lastJobId ? el('span', { className: 'sub' }, jobLink(c.lastJobId)) : null,
            c.lastOutcomeAt ? el('span', { className: 'sub' }, time(c.lastOutcomeAt)) : null,
            c.rolloutHalted ? sub(`held: ${c.rolloutHalted}`) : null,
          )
        : cell(statusBadge('none yet', 'unknown'));
      return el(
        'tr',
        {},
        el(
          'th',
          { attrs: { scope: 'row' } },
          el('span', { text: c.certName }),
          el('span', {
            className: 'sub mono',
            text: shortArn(c.certificateArn),
            attrs: { title: c.certificateArn },
          }),
        ),
        cell(el('span', { className: 'mono', text: `${c.target.key}=${c.target.value}` })),
        cell(el('span', { className: 'mono serial', text: displaySerial(c.serial) })),
        cell(time(c.notAfter)),
        cell(statusBadge(e.text, e.level), e.level === 'ok' ? null : sub(e.label)),
        outcome,
        cell(
          statusBadge(conv.text, conv.level),
          sub(
            conv.level === 'ok'
              ? 'all converged'
              : c.servers?.total
                ? `${c.servers.total - c.servers.converged} not converged`
                : '',
          ),
        ),
      );
    }),
  );
}

function serverRows(servers) {
  return servers.map((s) =>
    el(
      'tr',
      {},
      el('th', { className: 'mono nowrap', text: s.instanceId, attrs: { scope: 'row' } }),
      cell(
        statusBadge(s.status, statusLevel(s.status)),
        s.statusDetails && s.statusDetails !== s.status ? sub(s.statusDetails) : null,
      ),
      cell(
        el('span', { text: s.summary?.outcome ?? '' }),
        s.summary?.problems?.length ? sub(`drift: ${s.summary.problems.join(', ')}`) : null,
      ),
      cell(el('span', { className: 'mono serial', text: displaySerial(s.summary?.serial) })),
      el(
        'td',
        { className: 'files' },
        ...(s.summary?.files ?? []).map((f) => el('span', { className: 'sub mono', text: f })),
      ),
      cell(el('span', { text: s.summary === undefined ? '' : s.summary.reloaded ? 'yes' : 'no' })),
      cell(time(s.updatedAt)),
      el('td', { className: 'message' }, el('span', { text: s.error ?? s.summary?.message ?? '' })),
    ),
  );
}

/** A deployment's servers in brief, under its row: status, outcome and what went wrong. */
function serverSummaryTable(servers, caption) {
  const head = ['Server', 'Status', 'Outcome'];
  return el(
    'table',
    { className: 'brief' },
    el('caption', { className: 'visually-hidden', text: caption }),
    el(
      'thead',
      {},
      el('tr', {}, ...head.map((h) => el('th', { text: h, attrs: { scope: 'col' } }))),
    ),
    el(
      'tbody',
      {},
      ...servers.map((s) =>
        el(
          'tr',
          {},
          el('th', { className: 'mono nowrap', text: s.instanceId, attrs: { scope: 'row' } }),
          cell(statusBadge(s.status, statusLevel(s.status))),
          cell(el('span', { text: s.summary?.outcome ?? '' }), s.error ? sub(s.error) : null),
        ),
      ),
    ),
  );
}

function renderDeployments(recent, details, selectedId, now) {
  const tbody = document.querySelector('#deployment-table tbody');
  if (recent.length === 0) {
    emptyRow(tbody, 8, 'No deployment yet.');
    return;
  }
  tbody.replaceChildren(
    ...recent.map((d) => {
      const full = details.get(d.jobId) ?? d;
      const servers = full.servers ?? [];
      const results =
        servers.length === 0
          ? null
          : el(
              'details',
              {},
              el('summary', {
                text: `${servers.length} per-server ${servers.length === 1 ? 'result' : 'results'}`,
              }),
              serverSummaryTable(servers, `Servers of job ${d.jobId}`),
            );
      const row = el(
        'tr',
        { className: d.jobId === selectedId ? 'selected' : '' },
        el('th', { attrs: { scope: 'row' } }, jobLink(d.jobId)),
        cell(
          el('span', { text: d.certName }),
          el('span', {
            className: 'sub mono',
            text: shortArn(d.certificateArn),
            attrs: { title: d.certificateArn },
          }),
        ),
        cell(el('span', { className: 'mono', text: `${d.target.key}=${d.target.value}` })),
        cell(el('span', { text: d.trigger }), d.mode ? sub(d.mode) : null),
        el(
          'td',
          { className: 'wide' },
          statusBadge(full.status, statusLevel(full.status)),
          full.reason ? sub(full.reason) : null,
        ),
        cell(time(d.createdAt)),
        cell(
          el('span', { text: durationText(deploymentDuration(full, now)) }),
          isTerminal(full.status) ? null : sub('so far'),
        ),
        cell(el('span', { text: countsText(full) }), results),
      );
      if (d.jobId === selectedId) row.setAttribute('aria-current', 'true');
      return row;
    }),
  );
}

function fact(dl, name, ...value) {
  dl.append(el('dt', { text: name }), el('dd', {}, ...value));
}

function renderDeployment(d, now) {
  const title = document.getElementById('deployment-title');
  const hint = document.getElementById('deployment-hint');
  const facts = document.getElementById('deployment-facts');
  const timelineBody = document.querySelector('#timeline-table tbody');
  const serverBody = document.querySelector('#server-table tbody');
  facts.replaceChildren();
  if (d === undefined) {
    title.textContent = 'Deployment';
    hint.hidden = false;
    emptyRow(timelineBody, 4, 'No deployment chosen.');
    emptyRow(serverBody, 8, 'No deployment chosen.');
    return;
  }
  title.textContent = `Deployment ${d.jobId}`;
  hint.hidden = true;
  fact(
    facts,
    'Status',
    statusBadge(d.status, statusLevel(d.status)),
    d.reason ? sub(d.reason) : null,
  );
  fact(
    facts,
    'Certificate',
    el('span', { text: `${d.certName} ` }),
    el('span', { className: 'mono', text: d.certificateArn }),
  );
  fact(
    facts,
    'Target',
    el('span', { className: 'mono', text: `${d.target.key}=${d.target.value}` }),
  );
  fact(
    facts,
    'Trigger',
    el('span', {
      text: `${d.trigger}${d.requester ? ` by ${d.requester}` : ''}${d.mode ? ` (${d.mode})` : ''}`,
    }),
  );
  if (d.certificate) {
    fact(
      facts,
      'Serial',
      el('span', { className: 'mono', text: displaySerial(d.certificate.serial) }),
    );
    fact(facts, 'Valid until', time(d.certificate.notAfter));
  }
  if (d.commandId) fact(facts, 'Run Command', el('span', { className: 'mono', text: d.commandId }));
  fact(facts, 'Servers', el('span', { text: countsText(d) }));
  fact(
    facts,
    'Took',
    el('span', {
      text: `${durationText(deploymentDuration(d, now))}${isTerminal(d.status) ? '' : ' so far'}`,
    }),
  );
  if (d.lastError) fact(facts, 'Last error', el('span', { text: d.lastError }));

  const events = timeline(d);
  const span = Math.max(1, ...events.map((e) => e.offsetMs));
  timelineBody.replaceChildren(
    ...events.map((e) => {
      const dot = el('span', { className: e.level, attrs: { 'aria-hidden': 'true' } });
      dot.style.left = `${((Math.max(0, e.offsetMs) / span) * 100).toFixed(1)}%`;
      return el(
        'tr',
        {},
        cell(time(e.at)),
        cell(el('span', { className: 'nowrap', text: `+${durationText(e.offsetMs)}` })),
        cell(el('span', { text: e.what })),
        cell(el('div', { className: 'bar' }, dot)),
      );
    }),
  );
  const servers = d.servers ?? [];
  if (servers.length === 0) {
    emptyRow(
      serverBody,
      8,
      isTerminal(d.status)
        ? 'No server results recorded.'
        : 'Results are recorded when the job ends.',
    );
  } else {
    serverBody.replaceChildren(...serverRows(servers));
  }
}

function showProblem(error) {
  const box = document.getElementById('problem');
  if (error === undefined) {
    box.hidden = true;
    box.textContent = '';
    return;
  }
  box.hidden = false;
  box.textContent = `Could not read the API: ${error instanceof Error ? error.message : String(error)}`;
}

const state = { details: new Map(), recent: [], timer: undefined, loading: false };

async function showSelected() {
  const now = Date.now();
  const selectedId = jobFromHash(location.hash) ?? state.recent[0]?.jobId;
  renderDeployments(state.recent, state.details, selectedId, now);
  if (selectedId === undefined) {
    renderDeployment(undefined, now);
    return;
  }
  let d = state.details.get(selectedId);
  if (d === undefined) {
    d = await deploymentWithServers(selectedId);
    state.details.set(selectedId, d);
  }
  renderDeployment(d, now);
}

async function refresh() {
  if (state.loading) return;
  state.loading = true;
  const button = document.getElementById('refresh');
  button.disabled = true;
  try {
    const items = await certificates();
    renderCertificates(items);
    const arns = [...new Set(items.map((c) => c.certificateArn))].slice(
      0,
      maxCertificatesForHistory,
    );
    const lists = await inBatches(
      arns,
      4,
      async (arn) =>
        (await api(`/v1/certificates/${enc(arn)}/deployments?limit=${deploymentsPerCertificate}`))
          .items,
    );
    state.recent = recentDeployments(lists, recentShown);
    const details = await inBatches(state.recent, 4, (d) => deploymentWithServers(d.jobId));
    state.details = new Map(details.map((d) => [d.jobId, d]));
    await showSelected();
    showProblem(undefined);
    document.getElementById('updated').textContent = `Updated ${timeFormat.format(new Date())}`;
  } catch (error) {
    showProblem(error);
  } finally {
    state.loading = false;
    button.disabled = false;
    const running = [...state.details.values()].some((d) => !isTerminal(d.status));
    clearTimeout(state.timer);
    state.timer = setTimeout(
      refresh,
      (running ? refreshWhileRunningSeconds : refreshSeconds) * 1000,
    );
  }
}

async function start() {
  try {
    const info = await (await fetch('/info.json')).json();
    document.getElementById('source').textContent = `API ${info.apiUrl}`;
  } catch {
    document.getElementById('source').textContent = '';
  }
  document.getElementById('refresh').addEventListener('click', () => {
    refresh();
  });
  window.addEventListener('hashchange', () => {
    showSelected().catch(showProblem);
  });
  await refresh();
  document.body.dataset.loaded = 'true';
}

start();

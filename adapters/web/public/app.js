import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { isActive, renderJob, renderTurn } from './render.js';

const SUGGESTIONS = ['cut out the subject', 'make it black and white', 'read the text', 'what is in this picture?', 'crop it to a square', 'undo'];

const $ = (id) => document.getElementById(id);
const els = {
  list: $('conversation-list'),
  newConversation: $('new-conversation'),
  title: $('conversation-title'),
  connection: $('connection'),
  messages: $('messages'),
  composer: $('composer'),
  input: $('message-input'),
  send: $('send-button'),
  attach: $('attach-button'),
  fileInput: $('file-input'),
  attachments: $('attachments'),
  suggestions: $('suggestions'),
  chat: $('chat'),
  drop: $('drop-overlay'),
  helpButton: $('help-button'),
  helpDialog: $('help-dialog'),
  helpText: $('help-text'),
};

const state = {
  conversationId: undefined,
  conversations: [],
  turns: new Map(), // id → { turn, el }
  jobs: new Map(), // job id → element
  pending: [], // File[] waiting to be sent
  events: undefined,
  helpText: '',
  lastImage: undefined,
  sending: false,
};

const handlers = {
  onAction: (action, mediaId) => act(action, mediaId),
  onChoose: (number) => send(String(number)),
  onCancel: (jobId) => cancelJob(jobId),
};

// ---- conversations ------------------------------------------------------------------------------

async function loadConversations() {
  state.conversations = await api.conversations();
  state.conversations.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  els.list.replaceChildren(
    ...state.conversations.map((c) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'conversation',
            'data-testid': 'conversation-item',
            'data-conversation-id': c.id,
            'aria-current': c.id === state.conversationId ? 'page' : undefined,
            onclick: () => openConversation(c.id),
          },
          h('span', { class: 'conversation-title' }, c.title || 'Untitled'),
          h('span', { class: 'conversation-date' }, new Date(c.updatedAt).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })),
        ),
      ),
    ),
  );
  // The bot names a conversation after its first message: keep the header in step with the list.
  const current = state.conversations.find((c) => c.id === state.conversationId);
  if (current?.title) {
    els.title.textContent = current.title;
    document.title = `${current.title} · Vitron`;
  }
}

async function newConversation() {
  const conversation = await api.startConversation();
  await openConversation(conversation.id);
  await loadConversations();
  els.input.focus();
}

async function openConversation(id) {
  state.conversationId = id;
  if (location.hash !== `#c=${id}`) history.replaceState(null, '', `#c=${encodeURIComponent(id)}`);
  for (const item of els.list.querySelectorAll('[data-conversation-id]')) {
    if (item.dataset.conversationId === id) item.setAttribute('aria-current', 'page');
    else item.removeAttribute('aria-current');
  }
  connectEvents(id);
  await reloadHistory();
}

async function reloadHistory() {
  const id = state.conversationId;
  const view = await api.history(id);
  if (id !== state.conversationId) return;
  els.title.textContent = view.conversation.title || 'Conversation';
  document.title = `${els.title.textContent} · Vitron`;
  state.turns.clear();
  state.jobs.clear();
  state.lastImage = undefined;
  els.messages.replaceChildren();
  for (const turn of view.turns) addTurn(turn, { scroll: false });
  showEmptyState();
  scrollToEnd();
}

// ---- rendering ----------------------------------------------------------------------------------

function showEmptyState() {
  const existing = els.messages.querySelector('[data-testid="empty-help"]');
  if (state.turns.size > 0) {
    existing?.remove();
    return;
  }
  if (existing) return;
  els.messages.append(
    h(
      'div',
      { class: 'empty', 'data-testid': 'empty-help' },
      h('h2', {}, 'Start with an image or a video'),
      h('p', { class: 'hint' }, 'Attach one with the paper-clip button, drop it here, or paste it — then say what to do.'),
      h('p', { class: 'hint' }, 'On a picture, Alt+click selects the object there; Alt+drag asks about the boxed region.'),
      h('div', { class: 'help-text' }, state.helpText),
    ),
  );
}

function addTurn(turn, { scroll = true } = {}) {
  const known = state.turns.get(turn.id);
  const el = renderTurn(turn, { boxTarget: state.lastImage }, handlers);
  if (known) known.el.replaceWith(el);
  else els.messages.append(el);
  state.turns.set(turn.id, { turn, el });
  for (const m of turn.media ?? []) if (m.kind === 'image' && (m.role === 'upload' || m.role === 'result')) state.lastImage = m;
  if (isActive(turn.job)) showJob(turn.job, el);
  showEmptyState();
  if (scroll) scrollToEnd();
}

function showJob(job, after) {
  const existing = state.jobs.get(job.id);
  const card = renderJob(job, handlers);
  if (existing) existing.replaceWith(card);
  else if (after) after.after(card);
  else els.messages.append(card);
  state.jobs.set(job.id, card);
  scrollToEnd();
}

function finishJob(job) {
  state.jobs.get(job.id)?.remove();
  state.jobs.delete(job.id);
}

function notice(message) {
  els.messages.append(
    h(
      'div',
      { class: 'turn turn-bot tone-error notice', 'data-testid': 'client-error', role: 'alert' },
      h('div', { class: 'avatar', 'aria-hidden': 'true' }, '!'),
      h('div', { class: 'turn-body' }, h('div', { class: 'bubble' }, h('p', { class: 'text' }, message))),
    ),
  );
  scrollToEnd();
}

function scrollToEnd() {
  els.messages.scrollTop = els.messages.scrollHeight;
}

// Images load after their turn is placed and grow the list; stay at the bottom unless the user scrolled up.
function pinToBottomWhileLoading() {
  let pinned = true;
  els.messages.addEventListener('scroll', () => {
    pinned = els.messages.scrollHeight - els.messages.scrollTop - els.messages.clientHeight < 80;
  });
  els.messages.addEventListener(
    'load',
    () => {
      if (pinned) scrollToEnd();
    },
    true,
  );
  els.messages.addEventListener(
    'loadedmetadata',
    () => {
      if (pinned) scrollToEnd();
    },
    true,
  );
}

function applyResult(result) {
  addTurn(result.userTurn);
  if (result.botTurn) addTurn(result.botTurn);
  if (result.job && isActive(result.job)) showJob(result.job, state.turns.get(result.userTurn.id)?.el);
}

// ---- live events --------------------------------------------------------------------------------

function connectEvents(id) {
  state.events?.close();
  const source = api.events(id);
  state.events = source;
  let hadError = false;
  source.addEventListener('open', () => {
    els.connection.dataset.state = 'live';
    els.connection.title = 'Live updates connected';
    // After a drop, events may have been missed: the history is the truth.
    if (hadError) reloadHistory().catch(() => {});
  });
  source.addEventListener('error', () => {
    hadError = true;
    els.connection.dataset.state = 'down';
    els.connection.title = 'Live updates disconnected; reconnecting…';
  });
  const on = (type, fn) =>
    source.addEventListener(type, (message) => {
      if (state.events !== source) return;
      fn(JSON.parse(message.data));
    });
  on('turn', (event) => addTurn(event.turn));
  on('job.queued', (event) => {
    if (!state.jobs.has(event.job.id)) showJob(event.job);
  });
  on('job.progress', (event) => {
    if (isActive(event.job)) showJob(event.job);
  });
  on('job.finished', (event) => {
    finishJob(event.job);
    addTurn(event.turn);
    loadConversations().catch(() => {});
  });
}

// ---- sending ------------------------------------------------------------------------------------

async function send(text) {
  const files = state.pending;
  if (state.sending || (!text.trim() && files.length === 0)) return;
  if (!state.conversationId) await newConversation();
  state.sending = true;
  els.send.disabled = true;
  try {
    const result = await api.sendTurn(state.conversationId, text, files);
    state.pending = [];
    renderAttachments();
    els.input.value = '';
    autosize();
    applyResult(result);
    loadConversations().catch(() => {});
  } catch (error) {
    notice(error instanceof ApiError ? error.message : String(error));
  } finally {
    state.sending = false;
    els.send.disabled = false;
  }
}

async function act(action, mediaId) {
  try {
    applyResult(await api.act(state.conversationId, action, mediaId));
  } catch (error) {
    notice(error.message);
  }
}

async function cancelJob(jobId) {
  try {
    const job = await api.cancelJob(jobId);
    if (!isActive(job)) finishJob(job);
  } catch (error) {
    notice(error.message);
  }
}

// ---- attachments: button, drag and drop, paste --------------------------------------------------

function addFiles(fileList) {
  const files = [...fileList].filter((f) => f.type.startsWith('image/') || f.type.startsWith('video/') || f.type === '');
  const skipped = fileList.length - files.length;
  if (skipped > 0) notice(`Only images and videos can be attached (${skipped} file${skipped > 1 ? 's' : ''} skipped).`);
  state.pending.push(...files);
  renderAttachments();
  els.input.focus();
}

function renderAttachments() {
  els.attachments.replaceChildren(
    ...state.pending.map((file, index) => {
      const url = URL.createObjectURL(file);
      const preview = file.type.startsWith('video/')
        ? h('video', { src: url, muted: true })
        : h('img', { src: url, alt: '', onload: () => URL.revokeObjectURL(url) });
      return h(
        'li',
        { class: 'attachment', 'data-testid': 'attachment' },
        preview,
        h('span', { class: 'attachment-name' }, file.name || 'pasted image'),
        h(
          'button',
          {
            type: 'button',
            class: 'icon small',
            'aria-label': `Remove ${file.name || 'attachment'}`,
            onclick: () => {
              state.pending.splice(index, 1);
              renderAttachments();
            },
          },
          '×',
        ),
      );
    }),
  );
}

function setupDropAndPaste() {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  els.chat.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    els.drop.hidden = false;
  });
  els.chat.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  els.chat.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) els.drop.hidden = true;
  });
  els.chat.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    els.drop.hidden = true;
    addFiles(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    addFiles(files);
  });
}

// ---- click to select: Alt+click on an image = "segment at X,Y"; Alt+drag = a box -------------------

/** The selectable image under an event, if any (a result's box layer lies on top of it and takes the event). */
function selectableImage(target) {
  const img = target instanceof Element ? target.closest('.media-frame')?.querySelector('img[data-click-select]') : null;
  return img?.naturalWidth && img.naturalHeight ? img : null;
}

/** A pointer position in the image's own pixels, scaled from the size it is displayed at. */
function imagePoint(img, clientX, clientY) {
  const rect = img.getBoundingClientRect();
  return [
    Math.min(img.naturalWidth - 1, Math.max(0, Math.round(((clientX - rect.left) / rect.width) * img.naturalWidth))),
    Math.min(img.naturalHeight - 1, Math.max(0, Math.round(((clientY - rect.top) / rect.height) * img.naturalHeight))),
  ];
}

/** " in image #2" when the image is not the one the conversation works on, so the prompt goes to it. */
function imageSuffix(img) {
  const other = img.dataset.mediaId !== state.lastImage?.id && img.dataset.ordinal;
  return other ? ` in image #${img.dataset.ordinal}` : '';
}

/** Moves under this many screen pixels are a click, not a drag. */
const DRAG_THRESHOLD = 6;

/**
 * Alt+click on an uploaded or result image asks for the object under the pointer. Alt+drag draws a box and
 * puts "what is in the box x1,y1,x2,y2" in the message box, unsent: the user can send it as is or change
 * the words ("segment the box …"). A plain click keeps doing what it always did.
 */
function setupClickToSelect() {
  let drag = null;
  let suppressClick = false;
  els.messages.addEventListener('mousedown', (e) => {
    if (!e.altKey || e.button !== 0) return;
    const img = selectableImage(e.target);
    if (!img) return;
    // No native image drag (a ghost picture) while drawing a box.
    e.preventDefault();
    const frame = img.closest('.media-frame');
    const band = h('div', { class: 'select-band', 'data-testid': 'select-band' });
    frame.append(band);
    drag = { img, frame, band, x: e.clientX, y: e.clientY, moved: false };
  });
  document.addEventListener('mousemove', (e) => {
    if (!drag) return;
    drag.moved ||= Math.abs(e.clientX - drag.x) >= DRAG_THRESHOLD || Math.abs(e.clientY - drag.y) >= DRAG_THRESHOLD;
    const frameRect = drag.frame.getBoundingClientRect();
    Object.assign(drag.band.style, {
      left: `${Math.min(e.clientX, drag.x) - frameRect.left}px`,
      top: `${Math.min(e.clientY, drag.y) - frameRect.top}px`,
      width: `${Math.abs(e.clientX - drag.x)}px`,
      height: `${Math.abs(e.clientY - drag.y)}px`,
    });
  });
  document.addEventListener('mouseup', (e) => {
    if (!drag) return;
    const { img, band, x, y, moved } = drag;
    drag = null;
    band.remove();
    if (!moved) return;
    // The click that follows this mouseup is the end of the drag, not a point prompt.
    suppressClick = true;
    setTimeout(() => {
      suppressClick = false;
    }, 0);
    const [x1, y1] = imagePoint(img, Math.min(x, e.clientX), Math.min(y, e.clientY));
    const [x2, y2] = imagePoint(img, Math.max(x, e.clientX), Math.max(y, e.clientY));
    els.input.value = `what is in the box ${x1},${y1},${x2},${y2}${imageSuffix(img)}`;
    autosize();
    els.input.focus();
  });
  els.messages.addEventListener('click', (e) => {
    if (!e.altKey || suppressClick) return;
    const img = selectableImage(e.target);
    if (!img) return;
    e.preventDefault();
    const [x, y] = imagePoint(img, e.clientX, e.clientY);
    send(`segment at ${x},${y}${imageSuffix(img)}`);
  });
}

// ---- composer -----------------------------------------------------------------------------------

function autosize() {
  els.input.style.height = 'auto';
  els.input.style.height = `${Math.min(els.input.scrollHeight, 200)}px`;
}

function setupComposer() {
  els.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    send(els.input.value);
  });
  els.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send(els.input.value);
    }
  });
  els.input.addEventListener('input', autosize);
  els.attach.addEventListener('click', () => els.fileInput.click());
  els.fileInput.addEventListener('change', () => {
    addFiles(els.fileInput.files);
    els.fileInput.value = '';
  });
  els.suggestions.replaceChildren(
    ...SUGGESTIONS.map((text) => h('button', { type: 'button', class: 'chip', 'data-testid': 'suggestion', onclick: () => send(text) }, text)),
  );
  els.newConversation.addEventListener('click', () => newConversation().catch((e) => notice(e.message)));
  els.helpButton.addEventListener('click', () => els.helpDialog.showModal());
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  setupComposer();
  setupDropAndPaste();
  setupClickToSelect();
  pinToBottomWhileLoading();
  try {
    state.helpText = (await api.help()).text;
    els.helpText.textContent = state.helpText;
    await loadConversations();
    const fromHash = new URLSearchParams(location.hash.slice(1)).get('c');
    const target = state.conversations.find((c) => c.id === fromHash) ?? state.conversations[0];
    if (target) await openConversation(target.id);
    else await newConversation();
    document.body.dataset.ready = 'true';
  } catch (error) {
    notice(`The playground could not start: ${error.message}`);
  }
}

start();

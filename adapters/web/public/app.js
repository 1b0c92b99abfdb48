import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { createAttachments, setupDropAndPaste } from './attachments.js';
import { isActive, renderJob } from './job-card.js';
import { renderTurn } from './render.js';
import { setupClickToSelect } from './select.js';

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
  previews: new Map(), // job id → its newest generation preview { sha256, mime }
  finished: new Set(), // ids of jobs whose job.finished arrived
  events: undefined,
  helpText: '',
  lastImage: undefined,
  sending: false,
};

const attachments = createAttachments({ list: els.attachments, input: els.input, notice: (message) => notice(message) });

const handlers = {
  onAction: (action, mediaId) => act(action, mediaId),
  onChoose: (number) => send(String(number)),
  onCancel: (jobId) => cancelJob(jobId),
  onPickThen: (mediaId, words) => pickThen(mediaId, words),
  onRetry: (mediaId) => retry(mediaId),
  onLonger: (mediaId) => retry(mediaId, true),
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
  state.previews.clear();
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
  // A late report (a preview classified after the last step, a POST answer slower than the stream) must
  // not bring back the card of a job that has ended.
  if (state.finished.has(job.id)) return;
  const existing = state.jobs.get(job.id);
  // Previews come every few steps; the steps between keep showing the last one.
  const preview = job.progress?.preview ?? state.previews.get(job.id);
  if (preview) state.previews.set(job.id, preview);
  const card = renderJob(job, handlers, preview);
  // The same preview as before: keep the loaded image rather than flash a new element while it decodes.
  const shown = existing?.querySelector('[data-testid="job-preview"]');
  if (shown && shown.dataset.sha256 === preview?.sha256) card.querySelector('[data-testid="job-preview"]')?.replaceWith(shown);
  // The job.queued event may beat the POST's answer: the card then moves under the user's turn it belongs to.
  if (after) {
    existing?.remove();
    after.after(card);
  } else if (existing) existing.replaceWith(card);
  else els.messages.append(card);
  state.jobs.set(job.id, card);
  scrollToEnd();
}

function finishJob(job) {
  state.finished.add(job.id);
  state.jobs.get(job.id)?.remove();
  state.jobs.delete(job.id);
  state.previews.delete(job.id);
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

// `composer: false` for words a button sends: the attachments and the half-typed message stay as they are.
async function send(text, { composer = true } = {}) {
  const files = composer ? attachments.files() : [];
  if (state.sending || (!text.trim() && files.length === 0)) return;
  if (!state.conversationId) await newConversation();
  state.sending = true;
  els.send.disabled = true;
  try {
    const result = await api.sendTurn(state.conversationId, text, files);
    if (composer) {
      attachments.clear();
      els.input.value = '';
      autosize();
    }
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

// Upscale / Vary under a picture of a batch: make that picture the current one, then say the words, exactly
// as a user would ("use" it, then "upscale it").
async function pickThen(mediaId, words) {
  try {
    applyResult(await api.act(state.conversationId, 'use', mediaId));
  } catch (error) {
    notice(error.message);
    return;
  }
  await send(words, { composer: false });
}

async function retry(mediaId, longer = false) {
  try {
    applyResult(await api.repeat(state.conversationId, mediaId, longer));
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
    attachments.add(els.fileInput.files);
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
  setupDropAndPaste(els.chat, els.drop, attachments.add);
  setupClickToSelect(els.messages, {
    currentImageId: () => state.lastImage?.id,
    onBox: (text) => {
      els.input.value = text;
      autosize();
      els.input.focus();
    },
    onPoint: (text) => send(text),
  });
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

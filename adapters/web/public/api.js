// The page uses only the documented JSON API (docs/api.md): nothing here is private to the page.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The server could not be reached (${error.message}).`);
  }
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const err = data && typeof data === 'object' && data.error ? data.error : { code: `HTTP_${response.status}`, message: String(data) };
    throw new ApiError(response.status, err.code, err.message);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  help: () => request('GET', '/api/help'),
  conversations: () => request('GET', '/api/conversations'),
  startConversation: (title) => request('POST', '/api/conversations', title ? { title } : {}),
  history: (id) => request('GET', `/api/conversations/${enc(id)}`),
  sendTurn(id, text, files) {
    if (files.length === 0) return request('POST', `/api/conversations/${enc(id)}/turns`, { text });
    const form = new FormData();
    form.set('text', text);
    for (const file of files) form.append('file', file, file.name);
    return request('POST', `/api/conversations/${enc(id)}/turns`, form);
  },
  act: (id, action, mediaId) => request('POST', `/api/conversations/${enc(id)}/actions`, mediaId ? { action, mediaId } : { action }),
  repeat: (id, mediaId, longer = false) => request('POST', `/api/conversations/${enc(id)}/repeat`, longer ? { mediaId, longer } : { mediaId }),
  cancelJob: (jobId) => request('POST', `/api/jobs/${enc(jobId)}/cancel`),
  events: (id) => new EventSource(`/api/conversations/${enc(id)}/events`),
  mediaUrl: (mediaId) => `/api/media/${enc(mediaId)}`,
  previewUrl: (sha256) => `/api/previews/${enc(sha256)}`,
};

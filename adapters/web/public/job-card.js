import { api } from './api.js';
import { h } from './dom.js';

const ACTIVE = new Set(['queued', 'running']);

export function isActive(job) {
  return job !== undefined && ACTIVE.has(job.state);
}

/**
 * The live card of a queued or running job: bar, step note, queue position, Cancel, and the newest
 * generation preview (`preview` = { sha256, mime } from a job.progress event) while a picture is made.
 */
export function renderJob(job, handlers, preview) {
  const progress = job.progress;
  const bar = h('progress', { max: 1, 'data-testid': 'job-bar', 'aria-label': 'Job progress' });
  if (progress && job.state === 'running') bar.value = Math.max(0, Math.min(1, progress.fraction));
  let status;
  if (job.state === 'queued') {
    status = job.queuePosition ? `Waiting in the queue: ${job.queuePosition} ${job.queuePosition === 1 ? 'job' : 'jobs'} ahead of you` : 'Waiting to start…';
  } else if (job.state === 'running') {
    status = progress
      ? `${progress.note || 'Working'}${progress.steps > 1 ? ` (step ${progress.step} of ${progress.steps})` : ''} · ${Math.round(progress.fraction * 100)}%`
      : 'Working…';
  } else {
    status = job.state === 'succeeded' ? 'Done' : (job.error?.message ?? `Job ${job.state}`);
  }
  const cancel = isActive(job)
    ? h(
        'button',
        {
          type: 'button',
          class: 'button danger',
          'data-testid': 'cancel-job',
          onclick: (e) => {
            e.currentTarget.disabled = true;
            handlers.onCancel(job.id);
          },
        },
        'Cancel',
      )
    : null;
  return h(
    'div',
    { class: `job job-${job.state}`, 'data-testid': 'job-progress', 'data-job-id': job.id, 'data-state': job.state, role: 'status' },
    h('div', { class: 'job-title' }, `${job.tasks.length ? job.tasks.join(' → ') : 'job'}`),
    preview ? previewImage(preview) : null,
    bar,
    h('div', { class: 'job-row' }, h('span', { class: 'job-note', 'data-testid': 'job-note' }, status), cancel),
  );
}

function previewImage(preview) {
  return h('img', {
    class: 'job-preview',
    src: api.previewUrl(preview.sha256),
    alt: 'Preview of the picture being made',
    'data-testid': 'job-preview',
    'data-sha256': preview.sha256,
    // A preview that cannot be fetched is only a missing glimpse: the bar and the note still tell the progress.
    onerror: (e) => {
      e.currentTarget.hidden = true;
    },
  });
}

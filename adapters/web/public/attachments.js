import { h } from './dom.js';

/**
 * Files waiting to go with the next message: chosen with the button, dropped on the chat or pasted. The list
 * under the message box shows each with a preview and a button to take it off again.
 */
export function createAttachments({ list, input, notice }) {
  let pending = [];

  function render() {
    list.replaceChildren(
      ...pending.map((file, index) => {
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
                pending.splice(index, 1);
                render();
              },
            },
            '×',
          ),
        );
      }),
    );
  }

  return {
    add(fileList) {
      const files = [...fileList].filter((f) => f.type.startsWith('image/') || f.type.startsWith('video/') || f.type === '');
      const skipped = fileList.length - files.length;
      if (skipped > 0) notice(`Only images and videos can be attached (${skipped} file${skipped > 1 ? 's' : ''} skipped).`);
      pending.push(...files);
      render();
      input.focus();
    },
    /** The files to send with the next message. */
    files() {
      return [...pending];
    },
    /** After a message went out: its files are no longer waiting. A send that fails keeps them. */
    clear() {
      pending = [];
      render();
    },
  };
}

/** Files dragged onto the chat or pasted anywhere are attached; the drop hint shows while a drag is over the chat. */
export function setupDropAndPaste(chat, drop, add) {
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');
  chat.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    drop.hidden = false;
  });
  chat.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  chat.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.hidden = true;
  });
  chat.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    drop.hidden = true;
    add(e.dataTransfer.files);
  });
  document.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    add(files);
  });
}

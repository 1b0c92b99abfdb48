import type { Rule } from './rule.ts';
import { task } from './rule.ts';

/**
 * Session commands move along the conversation's lineage or control jobs; they are whole-clause
 * matches on the raw clause (references intact), because "undo that" and "revert to the original"
 * are fixed expressions, not an instruction plus a target.
 */

const ORIGINAL = String.raw`(?:the\s+)?(?:original|beginning|start|first\s+version|upload)(?:\s+(?:one|image|photo|picture|video|version))?`;

const REVERT = [
  new RegExp(
    String.raw`^(?:revert|reset|restore|go\s+back|get\s+back|return|switch\s+back|take\s+me\s+back|jump\s+back|back|change\s+(?:it\s+)?back)(?:\s+(?:everything|it|all|all\s+(?:the\s+)?(?:changes|edits)))?\s+to\s+${ORIGINAL}$`,
    'i',
  ),
  /^(?:start\s+(?:over|again|from\s+scratch|fresh)|reset(?:\s+(?:it|this|everything|all))?|revert(?:\s+(?:everything|all|all\s+(?:the\s+)?(?:changes|edits)))?|undo\s+(?:everything|all(?:\s+(?:the\s+)?(?:changes|edits))?)|restore\s+the\s+original|show\s+(?:me\s+)?the\s+original(?:\s+again)?|use\s+the\s+original(?:\s+again)?|discard\s+(?:all\s+)?(?:the\s+)?(?:changes|edits)|throw\s+away\s+(?:all\s+)?(?:the\s+)?(?:changes|edits))$/i,
];

const UNDO = [
  /^(?:undo|back|go\s+back|step\s+back|go\s+back\s+(?:one|a\s+step|one\s+step|once)|take\s+(?:that|it)\s+back|ctrl[\s+-]*z|cmd[\s+-]*z|oops|undo\s+(?:that|this|it|the\s+last\s+(?:one|edit|change|step|thing)|last\s+(?:edit|change|step)|the\s+previous\s+(?:edit|change|step))|revert\s+(?:that|this|it|the\s+last\s+(?:edit|change|step|one))|go\s+back\s+to\s+(?:the\s+)?(?:previous|last|earlier)\s+(?:one|version|image|step))$/i,
  /^(?:(?:no|nope|ugh|hmm)[,\s]+)?(?:that'?s?\s+(?:wrong|worse|bad|not\s+right)|i\s+(?:don't|do\s+not)\s+like\s+(?:it|that))[,\s]+(?:undo|go\s+back|revert)(?:\s+(?:it|that))?$/i,
];

const REDO = [
  /^(?:redo(?:\s+(?:that|it|the\s+last\s+(?:one|edit|change)))?|undo\s+(?:the|that|my)\s+undo|go\s+forward|step\s+forward|ctrl[\s+-]*y|ctrl[\s+-]*shift[\s+-]*z|cmd[\s+-]*shift[\s+-]*z|bring\s+(?:it|that)\s+back|actually\s+(?:keep|bring\s+back)\s+(?:it|that))$/i,
];

const HELP = [
  /^(?:help|\?+|h|commands|menu|usage|manual|instructions|info)$/i,
  /^(?:what\s+can\s+(?:you|i|u)\s+(?:do|ask|say|ask\s+you)(?:\s+(?:here|with\s+(?:this|it|you|images?|videos?)))?|what\s+(?:are|do)\s+(?:you|your)\s+(?:do|features|commands|capabilities|skills)|what\s+do\s+you\s+do|how\s+(?:do\s+i\s+use\s+(?:this|you|it|the\s+bot)|does\s+(?:this|it)\s+work|do\s+you\s+work)|what\s+are\s+you|who\s+are\s+you|show\s+(?:me\s+)?(?:the\s+)?(?:help|commands|options)|what\s+(?:commands|tasks|options|features)\s+(?:are\s+there|do\s+you\s+(?:support|know|have))|(?:i\s+)?need\s+help|help\s+me|help\s+please|list\s+(?:the\s+|your\s+)?(?:commands|tasks|features)|what\s+are\s+(?:the|your)\s+(?:commands|options|features))$/i,
];

const CANCEL = [
  /^(?:cancel|stop|abort|halt|quit|kill|never\s?mind|nvm|forget\s+(?:it|that|about\s+it)|don't\s+bother|scratch\s+that|(?:cancel|stop|abort|kill|halt)\s+(?:it|that|this|everything|all|now|the\s+(?:job|task|render|generation|processing|edit|request|current\s+job))|stop\s+(?:processing|generating|rendering|working))$/i,
];

/** "again", "do the same to the video", "same for the first image": matched on `text` (targets already taken out). */
const REPEAT =
  /^(?:(?:do|apply|try)\s+(?:it|that|this)\s+)?(?:again|once\s+more|one\s+more\s+time)$|^(?:repeat(?:\s+(?:it|that|this|the\s+last\s+(?:one|step|edit|change)))?|(?:do|apply|try)\s+(?:the\s+)?same(?:\s+(?:thing|edit|edits|change|changes))?(?:\s+again)?|same(?:\s+(?:thing|edit|change|again|here|there))?|(?:do|apply)\s+(?:that|this|it)(?:\s+(?:edit|change))?|ditto|more\s+of\s+the\s+same)(?:\s+(?:too|as\s+well|also|again))?$/i;

export const SESSION_RULES: Rule[] = [
  { name: 'revert', match: ({ raw }) => (REVERT.some((p) => p.test(raw)) ? task('revert') : undefined) },
  { name: 'redo', match: ({ raw }) => (REDO.some((p) => p.test(raw)) ? task('redo') : undefined) },
  { name: 'undo', match: ({ raw }) => (UNDO.some((p) => p.test(raw)) ? task('undo') : undefined) },
  { name: 'help', match: ({ raw }) => (HELP.some((p) => p.test(raw)) ? task('help') : undefined) },
  { name: 'cancel', match: ({ raw }) => (CANCEL.some((p) => p.test(raw)) ? task('cancel') : undefined) },
  { name: 'repeat', match: ({ text }) => (REPEAT.test(text) ? { kind: 'repeat' } : undefined) },
];

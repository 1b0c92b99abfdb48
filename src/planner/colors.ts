/** The CSS named colours (what sharp and every browser accept), so `background.color` is always drawable. */
const CSS_COLOURS = new Set(
  (
    'aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown burlywood ' +
    'cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan darkgoldenrod darkgray ' +
    'darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen ' +
    'darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue ' +
    'firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew ' +
    'hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan ' +
    'lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray ' +
    'lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue ' +
    'mediumorchid mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred ' +
    'midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid ' +
    'palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple ' +
    'rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue ' +
    'slateblue slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white ' +
    'whitesmoke yellow yellowgreen'
  ).split(' '),
);

/** Everyday names that are not CSS names, mapped to the nearest one. */
const ALIASES: Record<string, string> = {
  navyblue: 'navy',
  babyblue: 'lightblue',
  lightpurple: 'plum',
  darkpurple: 'indigo',
  lightred: 'salmon',
  darkyellow: 'goldenrod',
  lightorange: 'sandybrown',
  cream: 'ivory',
  offwhite: 'whitesmoke',
  pastelblue: 'lightblue',
  pastelpink: 'pink',
  pastelgreen: 'palegreen',
};

/** Words that qualify a colour without changing it: "a plain white background". */
const QUALIFIERS = /\b(?:pure|solid|plain|bright|simple|clean|flat|nice|single|uniform|colou?red|colou?r)\b/gi;

/**
 * A colour as `background.color` takes it: a CSS name ("light blue" → "lightblue") or a hex code.
 * Undefined when the words are not a colour, so callers can treat them as a described scene instead.
 */
export function parseColor(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(t);
  if (hex && (t.startsWith('#') || /\d/.test(hex[1]!))) return `#${hex[1]}`;
  const squeezed = t
    .replace(/^(?:an?|the)\s+/, '')
    .replace(QUALIFIERS, '')
    .replace(/[\s-]+/g, '');
  if (squeezed === '') return undefined;
  if (CSS_COLOURS.has(squeezed)) return squeezed;
  return ALIASES[squeezed];
}

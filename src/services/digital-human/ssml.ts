/**
 * The digital-human SSML dialect (https://www.tencentcloud.com/document/product/1211/65921): a small hand-written parser, a validator and the spoken text of a
 * drive text. Text without `<` is plain text and always fine (a bare `&` there is just a character).
 */

/** The tags the IVH SSML dialect documents. */
const SSML_TAGS = ['speak', 'phoneme', 'break', 'word', 'sub', 'say-as', 'insert-action'] as const;
/** Values of `<say-as interpret-as>`. */
const SAY_AS_TYPES = ['cardinal', 'digits', 'telephone', 'address', 'id', 'date', 'time', 'punctuation', 'characters', 'measure', 'currency'] as const;
/** Values of `<break strength>`. */
const BREAK_STRENGTHS = ['x-weak', 'weak', 'medium', 'strong', 'x-strong'] as const;
/**
 * The pause of a `<break>` without `time`, by strength (`medium` when neither is given, as the page says). The IVH
 * pages give no durations; these are the usual TTS ones (250 ms steps from x-weak to x-strong).
 */
const BREAK_STRENGTH_MS: Readonly<Record<(typeof BREAK_STRENGTHS)[number], number>> = { 'x-weak': 250, weak: 500, medium: 750, strong: 1000, 'x-strong': 1250 };

interface SsmlText {
  kind: 'text';
  /** With entities decoded. */
  text: string;
}

interface SsmlElement {
  kind: 'element';
  name: string;
  /** Attribute values with entities decoded, in source order. */
  attrs: Map<string, string>;
  children: SsmlNode[];
}

type SsmlNode = SsmlText | SsmlElement;

class SsmlError extends Error {}

function fail(message: string): never {
  throw new SsmlError(message);
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY = /&(lt|gt|amp|quot|apos);/y;
const TAG_NAME = /[A-Za-z][A-Za-z0-9_.:-]*/y;
const ATTR_NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;
const CLOSE_TAG = /<\/([A-Za-z][A-Za-z0-9_.:-]*)\s*>/y;

function near(src: string, at: number): string {
  return JSON.stringify(src.slice(at, at + 12));
}

/** Decodes the five XML entities; any other `&` sequence is an error. */
function decode(raw: string): string {
  if (!raw.includes('&')) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const amp = raw.indexOf('&', i);
    if (amp < 0) return out + raw.slice(i);
    out += raw.slice(i, amp);
    ENTITY.lastIndex = amp;
    const m = ENTITY.exec(raw);
    if (!m) fail(`unsupported entity or bare "&" at ${near(raw, amp)} (only &lt; &gt; &amp; &quot; &apos; are allowed)`);
    out += ENTITIES[m[1]!];
    i = amp + m[0].length;
  }
  return out;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Parses markup into a node list (the children of an implicit document node); throws SsmlError. */
function parse(src: string): SsmlNode[] {
  const doc: SsmlElement = { kind: 'element', name: '#document', attrs: new Map(), children: [] };
  const stack: SsmlElement[] = [doc];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const top = stack[stack.length - 1]!;
    const lt = src.indexOf('<', i);
    const end = lt < 0 ? n : lt;
    if (end > i) top.children.push({ kind: 'text', text: decode(src.slice(i, end)) });
    if (lt < 0) break;
    i = lt;
    if (src.startsWith('</', i)) {
      CLOSE_TAG.lastIndex = i;
      const m = CLOSE_TAG.exec(src);
      if (!m) fail(`malformed closing tag at ${near(src, i)}`);
      const name = m[1]!;
      if (stack.length === 1) fail(`closing tag </${name}> has no matching opening tag`);
      if (top.name !== name) fail(`closing tag </${name}> does not match the open <${top.name}>`);
      stack.pop();
      i += m[0].length;
      continue;
    }
    TAG_NAME.lastIndex = i + 1;
    const nm = TAG_NAME.exec(src);
    if (!nm) {
      const c = src[i + 1];
      if (c === '!' || c === '?') fail(`comments, CDATA and declarations are not supported (at ${near(src, i)})`);
      fail(`"<" that does not start a tag at ${near(src, i)} (write &lt;)`);
    }
    const el: SsmlElement = { kind: 'element', name: nm[0], attrs: new Map(), children: [] };
    let j = i + 1 + nm[0].length;
    let selfClosing = false;
    while (true) {
      const before = j;
      while (isSpace(src[j])) j++;
      if (j >= n) fail(`unterminated tag <${el.name}>`);
      if (src[j] === '>') {
        j++;
        break;
      }
      if (src.startsWith('/>', j)) {
        j += 2;
        selfClosing = true;
        break;
      }
      if (j === before) fail(`expected whitespace, ">" or "/>" in <${el.name}> at ${near(src, j)}`);
      ATTR_NAME.lastIndex = j;
      const an = ATTR_NAME.exec(src);
      if (!an) fail(`malformed attribute in <${el.name}> at ${near(src, j)}`);
      const attr = an[0];
      j += attr.length;
      while (isSpace(src[j])) j++;
      if (src[j] !== '=') fail(`attribute ${attr} of <${el.name}> has no value`);
      j++;
      while (isSpace(src[j])) j++;
      const quote = src[j];
      if (quote !== '"' && quote !== "'") fail(`the value of attribute ${attr} of <${el.name}> must be quoted`);
      const close = src.indexOf(quote, j + 1);
      if (close < 0) fail(`unterminated value of attribute ${attr} of <${el.name}>`);
      const raw = src.slice(j + 1, close);
      if (raw.includes('<')) fail(`the value of attribute ${attr} of <${el.name}> contains "<" (write &lt;)`);
      if (el.attrs.has(attr)) fail(`attribute ${attr} appears twice in <${el.name}>`);
      el.attrs.set(attr, decode(raw));
      j = close + 1;
    }
    top.children.push(el);
    if (!selfClosing) stack.push(el);
    i = j;
  }
  if (stack.length > 1) fail(`tag <${stack[stack.length - 1]!.name}> is not closed`);
  return doc.children;
}

type Content = 'none' | 'text' | 'text+action' | 'any';

/** Per tag: the allowed attributes (null = any) and what it may contain. */
const RULES: Record<(typeof SSML_TAGS)[number], { attrs: readonly string[] | null; content: Content }> = {
  speak: { attrs: null, content: 'any' },
  phoneme: { attrs: ['alphabet', 'ph'], content: 'text' },
  break: { attrs: ['time', 'strength'], content: 'none' },
  word: { attrs: [], content: 'text+action' },
  sub: { attrs: ['alias'], content: 'text+action' },
  'say-as': { attrs: ['interpret-as'], content: 'text' },
  'insert-action': { attrs: null, content: 'none' },
};

const PINYIN = /^[a-zA-Zvü]+[1-5]$/;
const BREAK_TIME = /^(0|[1-9][0-9]*)(ms|s)$/;

function textOf(el: SsmlElement): string {
  return el.children.map((c) => (c.kind === 'text' ? c.text : textOf(c))).join('');
}

/** Visible characters (code points other than whitespace). */
function charCount(s: string): number {
  let n = 0;
  for (const c of s) if (!/\s/u.test(c)) n++;
  return n;
}

function checkElement(el: SsmlElement, parent: SsmlElement | null): void {
  const rule = (RULES as Record<string, (typeof RULES)[keyof typeof RULES] | undefined>)[el.name];
  if (!rule) fail(`unknown tag <${el.name}> (allowed: ${SSML_TAGS.join(', ')})`);
  if (el.name === 'speak' && parent) fail('<speak> may only be the root element');
  if (rule.attrs) {
    for (const a of el.attrs.keys()) if (!rule.attrs.includes(a)) fail(`<${el.name}> does not take attribute ${a}`);
  }
  for (const c of el.children) {
    if (c.kind === 'text') {
      if (rule.content === 'none' && c.text.trim() !== '') fail(`<${el.name}> must be empty`);
      continue;
    }
    if (rule.content === 'none') fail(`<${el.name}> must be empty`);
    if (rule.content === 'text') fail(`<${el.name}> may contain text only, found <${c.name}>`);
    if (rule.content === 'text+action' && c.name !== 'insert-action') fail(`<${el.name}> may contain text and <insert-action> only, found <${c.name}>`);
    checkElement(c, el);
  }
  const body = textOf(el);
  if ((rule.content === 'text' || rule.content === 'text+action') && body.trim() === '') fail(`<${el.name}> must contain text`);
  switch (el.name) {
    case 'phoneme': {
      const alphabet = el.attrs.get('alphabet');
      if (alphabet !== 'py') fail(`<phoneme> needs alphabet="py"${alphabet === undefined ? '' : `, not "${alphabet}"`}`);
      const ph = el.attrs.get('ph');
      if (ph === undefined || ph.trim() === '') fail('<phoneme> needs a ph attribute');
      const syllables = ph.trim().split(/\s+/);
      const bad = syllables.find((s) => !PINYIN.test(s));
      if (bad !== undefined) fail(`<phoneme> ph "${bad}" is not pinyin with a tone 1-5 (e.g. chuan2)`);
      const chars = charCount(body);
      if (syllables.length !== chars) fail(`<phoneme> ph has ${syllables.length} syllable(s) for ${chars} character(s)`);
      break;
    }
    case 'break': {
      const time = el.attrs.get('time');
      if (time !== undefined) {
        const m = BREAK_TIME.exec(time);
        if (!m) fail(`<break> time "${time}" must be an integer with unit s or ms`);
        const v = Number(m[1]);
        if (m[2] === 's' && (v < 1 || v > 9)) fail(`<break> time "${time}" must be 1-9 s`);
        if (m[2] === 'ms' && (v < 50 || v > 9000)) fail(`<break> time "${time}" must be 50-9000 ms`);
      }
      const strength = el.attrs.get('strength');
      if (strength !== undefined && !(BREAK_STRENGTHS as readonly string[]).includes(strength)) fail(`<break> strength "${strength}" must be one of ${BREAK_STRENGTHS.join(', ')}`);
      break;
    }
    case 'sub': {
      const alias = el.attrs.get('alias');
      if (alias === undefined || alias.trim() === '') fail('<sub> needs a non-empty alias attribute');
      break;
    }
    case 'say-as': {
      const kind = el.attrs.get('interpret-as');
      if (kind === undefined) fail('<say-as> needs an interpret-as attribute');
      if (!(SAY_AS_TYPES as readonly string[]).includes(kind)) fail(`<say-as> interpret-as "${kind}" must be one of ${SAY_AS_TYPES.join(', ')}`);
      break;
    }
  }
}

/** The single `<speak>` root of a parsed document; throws SsmlError otherwise. */
function root(nodes: SsmlNode[]): SsmlElement {
  const elements = nodes.filter((c): c is SsmlElement => c.kind === 'element');
  const first = elements[0];
  if (!first || first.name !== 'speak') fail(`markup must have <speak> as its root element${first ? `, found <${first.name}>` : ''}`);
  if (nodes.some((c) => c.kind === 'text' && c.text.trim() !== '')) fail('text outside the <speak> root element');
  if (elements.length > 1) fail('only one <speak> root element is allowed');
  return first;
}

/**
 * Null when `text` is acceptable drive text, else a human-readable problem. Text without `<` is plain text. Text with
 * `<` is SSML: either exactly one `<speak>…</speak>` element (whitespace around it allowed), or, when there is no
 * `<speak>` at the top level, markup read as if it were inside one — the SSML page's own examples of `<phoneme>`,
 * `<break>` and `<word>` are such fragments (https://www.tencentcloud.com/zh/document/product/1211/65921).
 */
export function validateSsml(text: string): string | null {
  if (!text.includes('<')) return null;
  try {
    const nodes = parse(text);
    const hasSpeak = nodes.some((c) => c.kind === 'element' && c.name === 'speak');
    checkElement(hasSpeak ? root(nodes) : { kind: 'element', name: 'speak', attrs: new Map(), children: nodes }, null);
    return null;
  } catch (err) {
    if (err instanceof SsmlError) return err.message;
    throw err;
  }
}

/** The pause of a `<break>`: its `time`, else its `strength` (default medium). */
function breakMs(el: SsmlElement): number {
  const time = el.attrs.get('time');
  if (time !== undefined) {
    const m = BREAK_TIME.exec(time);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : 0;
  }
  const strength = el.attrs.get('strength') ?? 'medium';
  return (BREAK_STRENGTH_MS as Record<string, number | undefined>)[strength] ?? BREAK_STRENGTH_MS.medium;
}

/** What a drive text says: the words (tags stripped, `<sub>` read as its alias, entities decoded) and the `<break>` pauses. */
interface SsmlSpeech {
  text: string;
  pauseMs: number;
}

function speechOf(nodes: SsmlNode[], acc: SsmlSpeech): void {
  for (const c of nodes) {
    if (c.kind === 'text') acc.text += c.text;
    else if (c.name === 'sub') acc.text += c.attrs.get('alias') ?? '';
    else if (c.name === 'break') acc.pauseMs += breakMs(c);
    else speechOf(c.children, acc);
  }
}

/**
 * The spoken content of a drive text, for timing. Plain text is returned as is; markup that does not parse (e.g. a
 * stream that ends inside a tag) falls back to dropping `<…>` tags and a trailing unterminated `<…`.
 */
export function ssmlSpeech(text: string): SsmlSpeech {
  if (!text.includes('<')) return { text, pauseMs: 0 };
  const acc: SsmlSpeech = { text: '', pauseMs: 0 };
  try {
    speechOf(parse(text), acc);
    return acc;
  } catch (err) {
    if (!(err instanceof SsmlError)) throw err;
    return { text: text.replace(/<[^<>]*>/g, '').replace(/<[^<>]*$/, '').replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]!), pauseMs: 0 };
  }
}

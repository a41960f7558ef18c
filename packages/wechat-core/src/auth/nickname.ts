/**
 * The one nickname rule, for every way a nickname arrives: typed by the user
 * (`<input type="nickname">`, refused when it breaks the rule) or handed over by WeChat (the web
 * login's userinfo, a legacy getUserInfo payload: cleaned to fit instead, since the user cannot
 * retype it).
 *
 * - At most NICKNAME_MAX_CHARS characters, counted as Unicode code points (an emoji is one, never
 *   half of one), after NFC normalisation and trimming.
 * - No control characters (NUL, ESC, BEL, …), no line/paragraph separators, no bidi overrides or
 *   isolates, no other invisible format characters, and no lone surrogates. The format
 *   characters emoji and scripts need are kept: ZWJ/ZWNJ (U+200D/U+200C, family emoji, Persian)
 *   and the tag characters of subdivision flags (U+E0020–U+E007F).
 * - Something visible: a name of only spaces, zero-width characters or combining marks is blank.
 *
 * WeChat documents no length for the nickname input (`type="nickname"` only fills in the user's
 * WeChat name, which WeChat keeps far shorter); 64 characters leaves room for a typed name while
 * keeping lists and logs readable.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/userProfile.html
 */

export const NICKNAME_MAX_CHARS = 64;

/** Format characters that legitimate names use anywhere: ZWNJ and ZWJ. */
const ALLOWED_FORMAT = /^(?:\u200c|\u200d)$/u;
/**
 * A subdivision flag (🏴 + tag letters + cancel tag): the one place tag characters belong.
 * Anywhere else they are invisible text (ASCII smuggling) and are refused.
 */
const FLAG_SEQUENCE = /(\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f})/u;
/** Characters a nickname may not hold at all. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** A UTF-16 surrogate without its partner (no `u` flag: the units themselves are matched). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** What leaves nothing visible behind (Hangul and Braille blanks included). */
const INVISIBLE = /[\s\p{Cf}\p{M}\u3164\u115f\u1160\uffa0\u2800]/gu;

function isForbidden(char: string): boolean {
  return FORBIDDEN.test(char) && !ALLOWED_FORMAT.test(char);
}

/** The text outside flag sequences (split keeps the sequences at odd indexes). */
function outsideFlags(value: string): string {
  return value
    .split(FLAG_SEQUENCE)
    .filter((_, i) => i % 2 === 0)
    .join('');
}

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The nickname as stored (NFC, trimmed), or the reason it is refused. */
export function checkNickname(raw: string): { nickname: string } | { problem: string } {
  if (LONE_SURROGATE.test(raw)) return { problem: 'must not contain a lone surrogate' };
  const value = raw.normalize('NFC').trim();
  const bad = [...outsideFlags(value)].find(isForbidden);
  if (bad !== undefined)
    return {
      problem: `must not contain control or invisible format characters (${codePoint(bad)})`,
    };
  if (value.replace(INVISIBLE, '') === '') return { problem: 'must not be blank' };
  if ([...value].length > NICKNAME_MAX_CHARS)
    return { problem: `must be at most ${NICKNAME_MAX_CHARS} characters` };
  return { nickname: value };
}

/** Made on first use: building a segmenter costs ~35 ms, which every cold start would pay. */
let graphemes: Intl.Segmenter | undefined;

/**
 * A nickname WeChat handed over, made to fit the rule (forbidden characters dropped, cut at
 * NICKNAME_MAX_CHARS code points between whole graphemes, so no emoji is split); undefined when
 * nothing visible is left.
 */
export function cleanNickname(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const kept = raw
    .normalize('NFC')
    .split(FLAG_SEQUENCE)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : [...part].filter((char) => !isForbidden(char) && !LONE_SURROGATE.test(char)).join(''),
    )
    .join('')
    .normalize('NFC')
    .trim();
  let result = '';
  let count = 0;
  graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(kept)) {
    const size = [...segment].length;
    if (count + size > NICKNAME_MAX_CHARS) break;
    result += segment;
    count += size;
  }
  result = result.trim();
  return result.replace(INVISIBLE, '') === '' ? undefined : result;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ssmlSpeech, validateSsml } from './ssml.ts';

function ok(text: string): void {
  assert.equal(validateSsml(text), null, text);
}

function bad(text: string, problem: RegExp): void {
  const got = validateSsml(text);
  assert.ok(got !== null, `expected a problem with ${text}`);
  assert.match(got, problem, text);
}

const sp = (inner: string): string => `<speak>${inner}</speak>`;

describe('validateSsml: plain text and structure', () => {
  it('accepts plain text, even with & or >', () => {
    ok('你好，欢迎光临');
    ok('AT&T 1 > 0');
    ok('');
  });

  it('accepts a <speak> root with text and whitespace around it', () => {
    ok(sp('你好'));
    ok(`  \n${sp('你好')}\n`);
    ok('<speak version="1.0" xml:lang="zh-CN">你好</speak>');
    ok('<speak/>');
  });

  it('requires <speak> as the single root when markup has one', () => {
    bad('你好<speak>x</speak>', /text outside/);
    bad(`${sp('a')}tail`, /text outside/);
    bad(`${sp('a')}${sp('b')}`, /only one <speak>/);
    bad(sp(sp('x')), /<speak> may only be the root/);
  });

  it('rejects a "<" that does not start a tag, comments and declarations', () => {
    bad('1 < 2', /does not start a tag/);
    bad(sp('1 < 2'), /does not start a tag/);
    bad(sp('<!-- c -->x'), /comments/);
    bad('<?xml version="1.0"?><speak>x</speak>', /declarations/);
  });

  it('requires matching open and close tags', () => {
    ok(sp('<word>你好</word>'));
    bad('<speak>你好', /<speak> is not closed/);
    bad(sp('<word>你好</sub>'), /<\/sub> does not match the open <word>/);
    bad(`${sp('x')}</speak>`, /no matching opening tag/);
    bad('<speak>x</ speak>', /malformed closing tag/);
    bad('<speak>x</speak', /malformed closing tag/);
    bad('<speak', /unterminated tag <speak>/);
    bad('<Speak>x</Speak>', /unknown tag <Speak>/);
    bad(sp('<Word>x</Word>'), /unknown tag <Word>/);
  });

  it('requires quoted, well-formed, distinct attributes', () => {
    ok(sp("<break time='1s'/>"));
    ok(sp('<break time = "1s" />'));
    bad(sp('<break time=1s/>'), /must be quoted/);
    bad(sp('<break time/>'), /has no value/);
    bad(sp('<break time="1s/>'), /unterminated value/);
    bad(sp('<break time="1s"strength="weak"/>'), /expected whitespace/);
    bad(sp('<break time="1s" time="2s"/>'), /appears twice/);
    bad(sp('<sub alias="a<b">x</sub>'), /contains "<"/);
    bad(sp('<break 9="1"/>'), /malformed attribute/);
  });

  it('accepts the five entities and rejects any other & sequence', () => {
    ok(sp('&lt; &gt; &amp; &quot; &apos;'));
    ok(sp('<sub alias="A&amp;B">x</sub>'));
    bad(sp('AT&T'), /bare "&"/);
    bad(sp('&nbsp;'), /unsupported entity/);
    bad(sp('&#20320;'), /unsupported entity/);
    bad(sp('&amp'), /unsupported entity/);
    bad(sp('<sub alias="&copy;">x</sub>'), /unsupported entity/);
  });

  it('rejects tags outside the documented list', () => {
    bad(sp('<prosody rate="fast">x</prosody>'), /unknown tag <prosody>.*allowed: speak, phoneme, break, word, sub, say-as, insert-action/);
    bad(sp('<emotion/>'), /unknown tag <emotion>/);
    bad(sp('<audio src="x"/>'), /unknown tag <audio>/);
  });
});

describe('validateSsml: tags', () => {
  it('phoneme: alphabet="py", pinyin with tone 1-5, one syllable per character, text only', () => {
    ok(sp('<phoneme alphabet="py" ph="chuan2">传</phoneme>'));
    ok(sp('<phoneme alphabet="py" ph="zhong4 yao4">重要</phoneme>'));
    ok(sp('<phoneme alphabet="py" ph="lv4 nü3 ma5">绿女吗</phoneme>'));
    bad(sp('<phoneme ph="chuan2">传</phoneme>'), /needs alphabet="py"/);
    bad(sp('<phoneme alphabet="ipa" ph="chuan2">传</phoneme>'), /alphabet="py", not "ipa"/);
    bad(sp('<phoneme alphabet="py">传</phoneme>'), /needs a ph attribute/);
    bad(sp('<phoneme alphabet="py" ph="chuan">传</phoneme>'), /"chuan" is not pinyin with a tone/);
    bad(sp('<phoneme alphabet="py" ph="chuan6">传</phoneme>'), /"chuan6" is not pinyin/);
    bad(sp('<phoneme alphabet="py" ph="zhong4">重要</phoneme>'), /1 syllable\(s\) for 2 character\(s\)/);
    bad(sp('<phoneme alphabet="py" ph="zhong4 yao4">重</phoneme>'), /2 syllable\(s\) for 1 character/);
    bad(sp('<phoneme alphabet="py" ph="chuan2"><word>传</word></phoneme>'), /text only, found <word>/);
    bad(sp('<phoneme alphabet="py" ph="chuan2"></phoneme>'), /must contain text/);
    bad(sp('<phoneme alphabet="py" ph="chuan2" rate="1">传</phoneme>'), /does not take attribute rate/);
  });

  it('break: empty; time 1-9 s or 50-9000 ms; strength in the list', () => {
    ok(sp('你好<break/>'));
    ok(sp('你好<break></break>'));
    for (const t of ['1s', '9s', '50ms', '9000ms', '100ms']) ok(sp(`你好<break time="${t}"/>`));
    for (const s of ['x-weak', 'weak', 'medium', 'strong', 'x-strong']) ok(sp(`你好<break strength="${s}"/>`));
    ok(sp('你好<break time="2s" strength="weak"/>'));
    for (const t of ['0s', '10s', '49ms', '9001ms']) bad(sp(`你好<break time="${t}"/>`), /must be (1-9 s|50-9000 ms)/);
    for (const t of ['1.5s', '100', '2 s', '01s', 'fast']) bad(sp(`你好<break time="${t}"/>`), /integer with unit s or ms/);
    bad(sp('你好<break strength="loud"/>'), /strength "loud" must be one of x-weak/);
    bad(sp('你好<break>x</break>'), /<break> must be empty/);
    bad(sp('你好<break><insert-action/></break>'), /<break> must be empty/);
    bad(sp('你好<break duration="1s"/>'), /does not take attribute duration/);
  });

  it('word: text, may nest insert-action only', () => {
    ok(sp('<word>数智人</word>'));
    ok(sp('<word>hello<insert-action name="wave"/></word>'));
    bad(sp('<word><sub alias="x">y</sub></word>'), /text and <insert-action> only, found <sub>/);
    bad(sp('<word lang="en">x</word>'), /does not take attribute lang/);
    bad(sp('<word> </word>'), /<word> must contain text/);
  });

  it('sub: alias required, may nest insert-action', () => {
    ok(sp('<sub alias="语音合成">TTS</sub>'));
    ok(sp('<sub alias="语音合成">TTS<insert-action/></sub>'));
    bad(sp('<sub>TTS</sub>'), /needs a non-empty alias/);
    bad(sp('<sub alias=" ">TTS</sub>'), /needs a non-empty alias/);
    bad(sp('<sub alias="a"><word>x</word></sub>'), /found <word>/);
  });

  it('say-as: interpret-as in the listed set, text only', () => {
    for (const k of ['cardinal', 'digits', 'telephone', 'address', 'id', 'date', 'time', 'punctuation', 'characters', 'measure', 'currency']) {
      ok(sp(`<say-as interpret-as="${k}">123</say-as>`));
    }
    bad(sp('<say-as>123</say-as>'), /needs an interpret-as/);
    bad(sp('<say-as interpret-as="ordinal">1</say-as>'), /"ordinal" must be one of cardinal/);
    bad(sp('<say-as interpret-as="digits"><insert-action/>1</say-as>'), /text only/);
  });

  it('insert-action: empty, any attributes', () => {
    ok(sp('<insert-action/>你好'));
    ok(sp('<insert-action name="wave" code="A1" x-any="1"/>你好'));
    ok(sp('<insert-action></insert-action>你好'));
    bad(sp('<insert-action>挥手</insert-action>'), /<insert-action> must be empty/);
  });
});

// The examples of the digital-human SSML page, as printed there (several are fragments without <speak>, with spaces
// inside <phoneme> and <word>): https://www.tencentcloud.com/zh/document/product/1211/65921 (Chinese) and
// https://tencentcloud.com/document/product/1211/65921 (English). The say-as table's inputs are put in tags.
const PAGE_EXAMPLES: Array<[string, SsmlSpeechLike]> = [
  ['本行将每月定期上 <phoneme alphabet="py" ph="chuan2"> 传 </phoneme> 记录至人民银行。', { text: '本行将每月定期上  传  记录至人民银行。', pauseMs: 0 }],
  ['自定义停顿 <break time="100ms"/> 的 SSML 标签', { text: '自定义停顿  的 SSML 标签', pauseMs: 100 }],
  ['自定义停顿的 <break strength="weak"/>SSML 标签', { text: '自定义停顿的 SSML 标签', pauseMs: 500 }],
  ['Custom pause <break time="100ms"/> SSML tag', { text: 'Custom pause  SSML tag', pauseMs: 100 }],
  ['Custom pause <break strength="weak"/> SSML tag', { text: 'Custom pause  SSML tag', pauseMs: 500 }],
  ['广州市长 <word> 隆马戏 </word> 欢迎您', { text: '广州市长  隆马戏  欢迎您', pauseMs: 0 }],
  ['<speak><sub alias="语音合成">TTS</sub></speak>', { text: '语音合成', pauseMs: 0 }],
  ['<speak><say-as interpret-as="cardinal">-123.01</say-as></speak>', { text: '-123.01', pauseMs: 0 }],
  ['<speak><say-as interpret-as="cardinal">10,000</say-as></speak>', { text: '10,000', pauseMs: 0 }],
  ['<speak><say-as interpret-as="digits">123045</say-as></speak>', { text: '123045', pauseMs: 0 }],
  ['<speak><say-as interpret-as="telephone">5605560</say-as></speak>', { text: '5605560', pauseMs: 0 }],
];
type SsmlSpeechLike = { text: string; pauseMs: number };

describe('the SSML page examples', () => {
  it('accepts every example, fragments without <speak> included', () => {
    for (const [text] of PAGE_EXAMPLES) ok(text);
  });

  it('times them by their words and breaks; a break with a strength and no time pauses too (weak = 500 ms)', () => {
    for (const [text, speech] of PAGE_EXAMPLES) assert.deepEqual(ssmlSpeech(text), speech, text);
    assert.equal(ssmlSpeech(sp('你好<break/>')).pauseMs, 750, 'medium by default');
    const strengths = ['x-weak', 'weak', 'medium', 'strong', 'x-strong'].map((s) => ssmlSpeech(sp(`你好<break strength="${s}"/>`)).pauseMs);
    assert.deepEqual(strengths, [250, 500, 750, 1000, 1250]);
    assert.equal(ssmlSpeech(sp('你好<break time="2s" strength="x-strong"/>')).pauseMs, 2000, 'time wins over strength');
  });

  it('still checks a fragment as if it were inside <speak>', () => {
    bad('你好<break time="10s"/>', /must be 1-9 s/);
    bad('<phoneme alphabet="py" ph="chuan2 ma1">传</phoneme>', /2 syllable\(s\) for 1 character/);
    bad('你好<prosody rate="fast">x</prosody>', /unknown tag <prosody>/);
    bad('<word><speak>x</speak></word>', /may contain text and <insert-action> only/);
    bad('你好<break time="1s">', /<break> is not closed/);
  });
});

describe('ssmlSpeech', () => {
  it('returns plain text unchanged', () => {
    assert.deepEqual(ssmlSpeech('AT&T 你好'), { text: 'AT&T 你好', pauseMs: 0 });
  });

  it('strips tags, reads sub as its alias, decodes entities and sums break times', () => {
    const s = ssmlSpeech(sp('A&amp;B<break time="1s"/><sub alias="语音合成">TTS</sub><break time="250ms"/><phoneme alphabet="py" ph="chuan2">传</phoneme><insert-action/>'));
    assert.deepEqual(s, { text: 'A&B语音合成传', pauseMs: 1250 });
  });

  it('falls back to dropping tags (and a trailing partial tag) for markup that does not parse', () => {
    assert.deepEqual(ssmlSpeech('<speak>你好<break time="1s"/>世'), { text: '你好世', pauseMs: 0 });
    assert.deepEqual(ssmlSpeech('<speak>你好<bre'), { text: '你好', pauseMs: 0 });
    assert.deepEqual(ssmlSpeech('界</speak>&lt;'), { text: '界<', pauseMs: 0 });
  });
});

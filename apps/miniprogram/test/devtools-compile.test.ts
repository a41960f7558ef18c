/**
 * The project compiles offline as DevTools compiles it (miniprogram-ci, TypeScript plugin), and
 * what it compiled is checked: every script parses as JavaScript, and the WXML keeps the
 * attributes the platform needs (without `open-type` a button is a plain button: no phone number,
 * no avatar, no privacy agreement; without `type="nickname"` the input is a plain text field).
 */
import { runUntilExit, tempDir } from '@wxlogin/test-kit';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Compiled {
  code: number | null;
  files: string[];
  texts: Record<string, string>;
  output: string;
}

async function compile(): Promise<Compiled> {
  const dir = await tempDir('compiled');
  const out = join(dir.path, 'compiled.json');
  try {
    const { code, output } = await runUntilExit({
      args: [join(root, 'scripts', 'compile-check.cjs'), out],
      env: process.env,
      timeoutMs: 100_000,
    });
    const match = /^COMPILED (.*)$/m.exec(output);
    const files = match?.[1] ? (JSON.parse(match[1]) as string[]) : [];
    const texts =
      code === 0 ? (JSON.parse(await readFile(out, 'utf8')) as Record<string, string>) : {};
    return { code, files, texts, output };
  } finally {
    await dir.remove();
  }
}

/** The part of jsdom used here (the mini-program's tsconfig has no DOM library). */
interface MarkupElement {
  getAttribute(name: string): string | null;
}
const { JSDOM } = createRequire(import.meta.url)('jsdom') as {
  JSDOM: new (markup: string) => {
    window: { document: { getElementById(id: string): MarkupElement | null } };
  };
};

/** An element of compiled WXML by id, parsed as markup. */
function element(wxml: string | undefined, id: string): MarkupElement {
  const found = new JSDOM(wxml ?? '').window.document.getElementById(id);
  if (!found) throw new Error(`no #${id} in the compiled WXML`);
  return found;
}

let compiled: Compiled;
beforeAll(async () => {
  compiled = await compile();
}, 120_000);
afterAll(() => undefined);

describe('miniprogram-ci compile', () => {
  it('compiles every page and component of app.json without error', async () => {
    expect(compiled.code, compiled.output).toBe(0);
    const app = JSON.parse(await readFile(join(root, 'miniprogram', 'app.json'), 'utf8')) as {
      pages: string[];
    };
    const targets = [
      ...app.pages,
      'components/user-card/user-card',
      'components/privacy-popup/privacy-popup',
    ];
    for (const target of targets) {
      for (const ext of ['js', 'json', 'wxml', 'wxss'])
        expect(compiled.files, `${target}.${ext}`).toContain(`${target}.${ext}`);
    }
    expect(compiled.files).toContain('app.js');
  });

  it('turns every TypeScript file into JavaScript that parses', () => {
    const scripts = Object.keys(compiled.texts).filter((name) => name.endsWith('.js'));
    expect(scripts).toContain('app.js');
    for (const name of scripts) {
      expect(() => new Script(compiled.texts[name] ?? '', { filename: name }), name).not.toThrow();
    }
    expect(compiled.texts['app.js']).toContain('onLaunch');
  });

  it('keeps the phone button a getPhoneNumber button wired to the page', () => {
    const button = element(compiled.texts['pages/phone/phone.wxml'], 'bind-phone');
    expect(button.getAttribute('open-type')).toBe('getPhoneNumber');
    expect(button.getAttribute('bindgetphonenumber')).toBe('onGetPhoneNumber');
    // The page words the quota refusal itself (errno 1400001), so WeChat's toast is off.
    expect(button.getAttribute('phone-number-no-quota-toast')).toBe('{{false}}');
    expect(compiled.texts['pages/phone/phone.js']).toContain('onGetPhoneNumber');
    // The real-time option (config.ts phoneVerification): its own open-type and event.
    const realtime = element(compiled.texts['pages/phone/phone.wxml'], 'bind-phone-realtime');
    expect(realtime.getAttribute('open-type')).toBe('getRealtimePhoneNumber');
    expect(realtime.getAttribute('bindgetrealtimephonenumber')).toBe('onGetPhoneNumber');
    expect(realtime.getAttribute('phone-number-no-quota-toast')).toBe('{{false}}');
  });

  it('keeps the avatar button a chooseAvatar button and the nickname input a nickname input', () => {
    const wxml = compiled.texts['pages/profile/profile.wxml'];
    const avatar = element(wxml, 'choose-avatar');
    expect(avatar.getAttribute('open-type')).toBe('chooseAvatar');
    expect(avatar.getAttribute('bindchooseavatar')).toBe('onChooseAvatar');
    const input = element(wxml, 'nickname');
    expect(input.getAttribute('type')).toBe('nickname');
    // Read from the form's submit (WeChat clears a refused nickname first) and its review event.
    expect(input.getAttribute('name')).toBe('nickname');
    expect(input.getAttribute('bindnicknamereview')).toBe('onNicknameReview');
    expect(element(wxml, 'profile-form').getAttribute('bindsubmit')).toBe('onSave');
    expect(element(wxml, 'save').getAttribute('form-type')).toBe('submit');
    expect(compiled.texts['pages/profile/profile.js']).toContain('onChooseAvatar');
  });

  it('keeps the privacy popup an agreePrivacyAuthorization button', () => {
    const button = element(
      compiled.texts['components/privacy-popup/privacy-popup.wxml'],
      'agree-privacy',
    );
    expect(button.getAttribute('open-type')).toBe('agreePrivacyAuthorization');
    expect(button.getAttribute('bindagreeprivacyauthorization')).toBe('onAgree');
    expect(compiled.texts['components/privacy-popup/privacy-popup.js']).toContain('onAgree');
  });
});

import { describe, expect, it } from 'vitest';
import { type ScopeWx, ensureScope } from '../miniprogram/services/scope.js';

/** A wx stand-in for the settings APIs: what the user has answered, and what they answer next. */
function settingsWx(
  current: boolean | undefined,
  answers: { authorize?: boolean; modal?: boolean; openSetting?: boolean },
) {
  const calls: string[] = [];
  const wxApi: ScopeWx = {
    getSetting: (o) => {
      calls.push('getSetting');
      o.success?.({ authSetting: current === undefined ? {} : { 'scope.record': current } });
    },
    authorize: (o) => {
      calls.push('authorize');
      if (answers.authorize) o.success?.();
      else o.fail?.();
    },
    showModal: (o) => {
      calls.push('showModal');
      o.success?.({ confirm: answers.modal === true });
    },
    openSetting: (o) => {
      calls.push('openSetting');
      o.success?.({ authSetting: { 'scope.record': answers.openSetting === true } });
    },
  };
  return { wxApi, calls };
}

describe('ensureScope', () => {
  it.each([
    ['already granted', true, {}, true, ['getSetting']],
    [
      'never asked, then granted',
      undefined,
      { authorize: true },
      true,
      ['getSetting', 'authorize'],
    ],
    [
      'never asked, then refused',
      undefined,
      { authorize: false },
      false,
      ['getSetting', 'authorize'],
    ],
    [
      'refused before, turned on in settings',
      false,
      { modal: true, openSetting: true },
      true,
      ['getSetting', 'showModal', 'openSetting'],
    ],
    [
      'refused before, modal dismissed',
      false,
      { modal: false },
      false,
      ['getSetting', 'showModal'],
    ],
  ] as const)('%s', async (_name, current, answers, expected, expectedCalls) => {
    const { wxApi, calls } = settingsWx(current, answers);
    expect(await ensureScope(wxApi, 'scope.record', '录音需要麦克风权限')).toBe(expected);
    expect(calls).toEqual(expectedCalls);
  });
});

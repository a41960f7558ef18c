/**
 * The 2023 privacy rules: avatar, nickname and phone APIs wait until the user agrees to the
 * privacy guide. WeChat calls wx.onNeedPrivacyAuthorization with a resolver; a popup with an
 * agreePrivacyAuthorization button answers it. This gate connects the two.
 * @see https://developers.weixin.qq.com/miniprogram/dev/framework/user-privacy/PrivacyAuthorize.html
 */
export type PrivacyResolve = (answer: {
  event: 'exposureAuthorization' | 'agree' | 'disagree';
  buttonId?: string;
}) => void;

/**
 * Every request is settled exactly once, so no guarded API call is left hanging: a second request
 * while one is open is settled with the same answer; with no popup on screen to ask the user (a
 * page without one, or its popup closed meanwhile), the request is declined at once.
 */
export class PrivacyGate {
  private pending: PrivacyResolve[] = [];
  private readonly listeners = new Set<(needed: boolean) => void>();

  /** `onAgree` runs each time the user agrees (the app reports the consent to its backend). */
  constructor(private readonly onAgree: () => void = () => undefined) {}

  /** Called by WeChat (through wx.onNeedPrivacyAuthorization) when a guarded API is used. */
  request(resolve: PrivacyResolve): void {
    if (this.listeners.size === 0) {
      // Nothing can show the guide here, so the user cannot agree: decline instead of hanging.
      resolve({ event: 'disagree' });
      return;
    }
    this.pending.push(resolve);
    for (const listener of this.listeners) listener(true);
    // Tell the platform our popup is showing (it counts exposures before agree/disagree).
    resolve({ event: 'exposureAuthorization' });
  }

  agree(buttonId: string): void {
    this.settle({ event: 'agree', buttonId });
    this.onAgree();
  }

  disagree(): void {
    this.settle({ event: 'disagree' });
  }

  /** A popup subscribes; the returned function unsubscribes (the last one leaving declines). */
  subscribe(listener: (needed: boolean) => void): () => void {
    this.listeners.add(listener);
    if (this.pending.length > 0) listener(true);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.pending.length > 0) this.disagree();
    };
  }

  private settle(answer: Parameters<PrivacyResolve>[0]): void {
    for (const resolve of this.pending.splice(0)) resolve(answer);
    for (const listener of this.listeners) listener(false);
  }
}

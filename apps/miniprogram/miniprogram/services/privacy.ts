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

export class PrivacyGate {
  private pending: PrivacyResolve | undefined;
  private readonly listeners = new Set<(needed: boolean) => void>();

  /** Called by WeChat (through wx.onNeedPrivacyAuthorization) when a guarded API is used. */
  request(resolve: PrivacyResolve): void {
    this.pending = resolve;
    for (const listener of this.listeners) listener(true);
    // Tell the platform our popup is showing (it counts exposures before agree/disagree).
    if (this.listeners.size > 0) resolve({ event: 'exposureAuthorization' });
  }

  agree(buttonId: string): void {
    this.settle({ event: 'agree', buttonId });
  }

  disagree(): void {
    this.settle({ event: 'disagree' });
  }

  /** A popup subscribes; the returned function unsubscribes. */
  subscribe(listener: (needed: boolean) => void): () => void {
    this.listeners.add(listener);
    if (this.pending) listener(true);
    return () => this.listeners.delete(listener);
  }

  private settle(answer: Parameters<PrivacyResolve>[0]): void {
    this.pending?.(answer);
    this.pending = undefined;
    for (const listener of this.listeners) listener(false);
  }
}

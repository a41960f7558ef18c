/**
 * Cloud function `account`: the 账号与安全 operations for the user WeChat identified for this call,
 * chosen by `action`: `export` (everything stored about them), `delete` (the cooling-off period
 * starts; ACCOUNT_DELETION_DAYS, default 7, at most 15), `cancel` (during it), and `consent`
 * (the privacy-guideline agreement: `{ action, kind: 'privacy', version, agreedAt }`).
 * Its timer trigger (config.json) erases the accounts whose deletion is due, cloud files included
 * (a call from the mini-program that claims to be the timer is refused);
 * a login of such a person (any function) erases theirs first.
 * Result: { ok: true, ...data } or { ok: false, error: { code, message } }.
 */
import {
  DEFAULT_DELETION_DAYS,
  MAX_DELETION_DAYS,
  WechatAuthError,
  cancelDeletion,
  eraseDueAccounts,
  exportAccount,
  loginWithIdentity,
  recordConsent,
  requestDeletion,
} from '@wxlogin/wechat-core';
import {
  calledByClient,
  callerIdentity,
  cloudDeps,
  eventObject,
  initCloud,
  respond,
  withStore,
} from '@wxlogin/cloud-runtime';

initCloud();

/** The function's ACCOUNT_DELETION_DAYS (its environment variables in the cloud console). */
function deletionDays(): number {
  const raw = process.env.ACCOUNT_DELETION_DAYS;
  if (raw === undefined || raw === '') return DEFAULT_DELETION_DAYS;
  const days = Number(raw);
  if (!/^\d+$/.test(raw) || days > MAX_DELETION_DAYS)
    throw new WechatAuthError(
      'internal',
      `ACCOUNT_DELETION_DAYS must be a whole number from 0 to ${MAX_DELETION_DAYS}`,
    );
  return days;
}

/** A timer trigger's event ({ Type: 'timer', TriggerName, Time }): no user is calling. */
function isTimer(event: Record<string, unknown>): boolean {
  return typeof event.Type === 'string' && event.Type.toLowerCase() === 'timer';
}

/** Only the platform's timer starts the sweep: a client sending `Type: 'timer'` is refused. */
function refuseClientTimer(): never {
  throw new WechatAuthError('unauthorized', 'the erasure sweep runs on the timer trigger only');
}

export async function main(event: unknown, _context: unknown) {
  return respond(async () => {
    const own = eventObject(event);
    if (isTimer(own)) {
      if (calledByClient(event)) refuseClientTimer();
      return withStore(async (store) => ({ erased: await eraseDueAccounts(cloudDeps(store)) }));
    }
    const caller = callerIdentity();
    const { action, ...input } = own;
    return withStore(async (store) => {
      const deps = cloudDeps(store);
      const { user } = await loginWithIdentity(caller, deps);
      const session = { userId: user.id, appid: caller.appid };
      switch (action) {
        case 'export':
          return exportAccount(session, deps);
        case 'delete':
          return requestDeletion(session, deps, { days: deletionDays() });
        case 'cancel':
          return cancelDeletion(session, deps);
        case 'consent':
          return recordConsent(input, session, deps);
        default:
          throw new WechatAuthError(
            'bad_request',
            'action: must be export, delete, cancel or consent',
          );
      }
    });
  });
}

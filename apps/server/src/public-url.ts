/**
 * The origin clients reach this server at: avatar links and the web login's redirect URI are
 * built from it, never from a request's Host header. PUBLIC_URL when configured; otherwise this
 * machine with the port actually bound, which PORT=0 makes known only after listen(): main hands
 * it over with `bound()`, and reading it before that is a programming error.
 */
export class PublicUrl {
  #href: string | undefined;

  constructor(configured: string | undefined) {
    this.#href = configured;
  }

  /** After listen(): the default takes the bound port (a configured URL stays as it is). */
  bound(port: number): void {
    this.#href ??= `http://127.0.0.1:${port}`;
  }

  /** Without a trailing slash, e.g. https://login.example.com. */
  get href(): string {
    if (this.#href === undefined)
      throw new Error('the public URL is read before the server listens');
    return this.#href;
  }

  get origin(): string {
    return new URL(this.href).origin;
  }

  /** Whether browsers get Secure cookies: everything but plain http on this machine. */
  get secure(): boolean {
    return new URL(this.href).protocol === 'https:';
  }
}

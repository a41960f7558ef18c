/**
 * The origin clients reach this server at: avatar links and the web login's redirect URI are
 * built from it, never from a request's Host header. PUBLIC_URL when configured; otherwise this
 * machine with the port actually bound, which PORT=0 makes known only after listen(): main hands
 * it over with `bound()`, and reading it before that is a programming error.
 */
export class PublicUrl {
  /** Parsed once, when the URL is known (not on every request that reads it). */
  #url: { href: string; origin: string; secure: boolean } | undefined;

  constructor(configured: string | undefined) {
    if (configured !== undefined) this.#url = parse(configured);
  }

  /** After listen(): the default takes the bound port (a configured URL stays as it is). */
  bound(port: number): void {
    this.#url ??= parse(`http://127.0.0.1:${port}`);
  }

  /** Without a trailing slash, e.g. https://login.example.com. */
  get href(): string {
    return this.known().href;
  }

  get origin(): string {
    return this.known().origin;
  }

  /** Whether browsers get Secure cookies: everything but plain http on this machine. */
  get secure(): boolean {
    return this.known().secure;
  }

  private known(): { href: string; origin: string; secure: boolean } {
    if (this.#url === undefined)
      throw new Error('the public URL is read before the server listens');
    return this.#url;
  }
}

function parse(href: string): { href: string; origin: string; secure: boolean } {
  const url = new URL(href);
  return { href, origin: url.origin, secure: url.protocol === 'https:' };
}

/** One page of a cursor-paginated list. Iterating it with `for await` walks this page and every later one. */
export class CursorPage<T> implements AsyncIterable<T> {
  constructor(
    readonly data: T[],
    readonly nextCursor: string | null,
    private readonly fetchPage: (cursor: string) => Promise<CursorPage<T>>,
  ) {}

  hasNextPage(): boolean {
    return this.nextCursor !== null && this.nextCursor !== '';
  }

  /** Fetches the next page; throws when there is none (check `hasNextPage()` first). */
  getNextPage(): Promise<CursorPage<T>> {
    if (!this.nextCursor) throw new Error('No next page: check hasNextPage() first.');
    return this.fetchPage(this.nextCursor);
  }

  /** This page, then each following page, fetched as you go. */
  async *iterPages(): AsyncGenerator<CursorPage<T>> {
    let page: CursorPage<T> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/**
 * What a list method returns: `await` it for the first page, `for await` over it for every
 * item of every page, or `for await` over `.pages()` for page after page. The request is sent
 * when you first await or iterate.
 */
export class PagePromise<T> implements Promise<CursorPage<T>>, AsyncIterable<T> {
  readonly [Symbol.toStringTag] = 'PagePromise';
  private promise: Promise<CursorPage<T>> | undefined;
  constructor(private readonly first: () => Promise<CursorPage<T>>) {}

  private get page(): Promise<CursorPage<T>> {
    this.promise ??= this.first();
    return this.promise;
  }

  // biome-ignore lint/suspicious/noThenProperty: a PagePromise is awaitable by design.
  then<R1 = CursorPage<T>, R2 = never>(
    onfulfilled?: ((value: CursorPage<T>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.page.then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<CursorPage<T> | R> {
    return this.page.catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<CursorPage<T>> {
    return this.page.finally(onfinally);
  }

  /** Every page in turn. */
  async *pages(): AsyncGenerator<CursorPage<T>> {
    yield* (await this.page).iterPages();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.page;
  }
}

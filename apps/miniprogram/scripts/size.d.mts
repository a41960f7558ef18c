/** Bytes of the mini-program main package. */
export function mainPackageBytes(): Promise<number>;

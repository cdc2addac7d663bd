// Globals of the UMD builds the pages load from /lib/ (served from node_modules).
interface VegaView {
  data(name: string, values: unknown[]): VegaView;
  runAsync(): Promise<VegaView>;
  finalize(): void;
}
declare function vegaEmbed(el: HTMLElement, spec: unknown, options?: Record<string, unknown>): Promise<{ view: VegaView; finalize(): void }>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const niivue: any;

// ut_pex (webtorrent's peer exchange extension) ships no types; the PEX test drives it on a raw wire.
declare module "ut_pex" {
  const utPex: () => unknown;
  export default utPex;
}

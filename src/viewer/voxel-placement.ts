/**
 * Where a `.vmg` layer's voxels go in Neuroglancer (no Neuroglancer imports): the origin is the
 * centre of voxel (0, 0, 0) (docs/vmg-format.md, the OME-Zarr translation), while the chunk grid
 * puts voxel k at k … k + 1; so the translation, in voxels of the x, y, z output space, is
 * origin / voxel size − ½, as Neuroglancer's OME-Zarr datasource shifts its scales by half a voxel.
 */

/** The x, y, z translation (voxels) of a volume with this origin and voxel size (z, y, x), its voxel 0 at `corner` (z, y, x voxels). */
export function voxelCentreTranslation(origin: readonly number[], voxelSize: readonly number[], corner: readonly number[] = [0, 0, 0]): [number, number, number] {
  const t = (a: number) => corner[a]! + origin[a]! / voxelSize[a]! - 0.5;
  return [t(2), t(1), t(0)];
}

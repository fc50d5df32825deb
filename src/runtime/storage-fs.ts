/**
 * The file-system calls the disk storage makes, as one object: Node's by default, and in the tests
 * one with a call replaced (a write that fails with ENOSPC, an fsync that fails with EIO).
 */
import * as fs from 'node:fs'

export type StorageFs = Pick<
  typeof fs,
  | 'openSync'
  | 'closeSync'
  | 'writeSync'
  | 'fdatasyncSync'
  | 'fsyncSync'
  | 'ftruncateSync'
  | 'readFileSync'
  | 'renameSync'
  | 'mkdirSync'
  | 'writeFileSync'
  | 'linkSync'
  | 'unlinkSync'
  | 'statSync'
>

export const nodeFs: StorageFs = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  fdatasyncSync: fs.fdatasyncSync,
  fsyncSync: fs.fsyncSync,
  ftruncateSync: fs.ftruncateSync,
  readFileSync: fs.readFileSync,
  renameSync: fs.renameSync,
  mkdirSync: fs.mkdirSync,
  writeFileSync: fs.writeFileSync,
  linkSync: fs.linkSync,
  unlinkSync: fs.unlinkSync,
  statSync: fs.statSync,
}

/** An error's code (ENOENT, EIO, ...) or its message. */
export const describeFsError = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code ?? (error instanceof Error ? error.message : String(error))
}

/** @file outfile.h
 *  @brief Whole-file outputs that never replace an existing file unless asked (--force)
 *  and never leave a partial file: written beside the path as PATH.XXXXXX, then linked
 *  into place (refused atomically if PATH exists: no check-then-create race) or, when
 *  replacing, renamed over it. HDF5 outputs use the store's atomic mode instead
 *  (cl_store_opts.atomic).
 */
#ifndef CLEAVE_OUTFILE_H
#define CLEAVE_OUTFILE_H

#include <stddef.h>

#include "cleave/status.h"

/** @brief Write @p len bytes of @p data as file @p path. @p replace 0: an existing
 *  @p path is left as it is -> CL_ERR_EXISTS (logged with the --force hint); 1: it is
 *  replaced. Write failures -> CL_ERR_IO (logged, no file left behind). */
cl_status cl_outfile_write(const char *path, const void *data, size_t len, int replace);

/** @brief May an output be written at @p path? CL_OK when nothing is there, or when a
 *  file is there and @p force is set; CL_ERR_EXISTS (logged, naming @p what and the path)
 *  when a file is there without @p force, or when @p path is a directory (even with
 *  @p force: --force replaces files, never directories). For checks before any work;
 *  the writers still refuse atomically. */
cl_status cl_output_check(const char *what, const char *path, int force);

/** @brief May @p path be (over)written at all? CL_ERR_EXISTS (logged, with @p what as
 *  prefix if not NULL) if it is a directory or one of the command's inputs
 *  (cl_output_not_input); CL_OK otherwise, whether or not a file is there. */
cl_status cl_output_target_ok(const char *what, const char *path);

/** @brief Give the command line to cl_output_not_input (cleave's main does). */
void cl_output_register_args(int argc, char **argv);

/** @brief CL_ERR_EXISTS (logged) if @p path is an existing file that a registered
 *  command-line argument also names (same device and inode: links and other spellings
 *  included), i.e. an input of this command (`run --profile P -o P --force` used to
 *  replace the profile it read). The argument that is @p path itself is skipped.
 *  Every writer calls it through cl_output_target_ok. */
cl_status cl_output_not_input(const char *what, const char *path);

/** @brief Read file @p path, which must hold exactly @p n float32 values (a raw tensor, as
 *  --input files are), into @p dst. CL_ERR_IO: it cannot be opened or read;
 *  CL_ERR_INVALID: it holds another number of bytes. Logs nothing: callers name the
 *  option and the expected shape. */
cl_status cl_infile_read_f32(const char *path, float *dst, size_t n);

#endif

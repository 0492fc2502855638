#ifndef CDOSSIER_SYSTEM_SHIM_H
#define CDOSSIER_SYSTEM_SHIM_H
// System calls Swift's Glibc module does not import because glibc declares them only under
// _GNU_SOURCE. Declared here by hand; glibc (>= 2.14) exports them.

// Flushes every dirty page of the filesystem that holds `fd` (Linux). Used once per import
// batch, before the database commit, so that a committed row never points at an object that a
// power loss could still take away.
int syncfs(int fd);

// Starts writeback of a file's dirty pages without waiting for it (Linux). Called on each new
// object right after it is written, so that the disk works while the CPU parses the next
// messages and the syncfs before the commit finds little left to do.
int sync_file_range(int fd, long long offset, long long nbytes, unsigned int flags);

// Finds a byte string in a buffer (glibc, two-way algorithm): the filer's cheap check for a
// pattern's fixed text before it runs a regular expression over a whole body.
void *memmem(const void *haystack, unsigned long haystacklen, const void *needle, unsigned long needlelen);

// The calling thread's kernel id (glibc >= 2.30), for setpriority(2) on one thread: the import
// lowers its reader and workers below its writer (see `ThreadPriority`).
int gettid(void);

#endif

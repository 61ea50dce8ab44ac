/* crc32c.h: CRC-32C (Castagnoli), as iSCSI and ext4 use it: with the SSE4.2
 * instruction where the CPU has it, else by tables (slicing by 8). */
#ifndef MQ_CRC32C_H
#define MQ_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends @crc (0 to begin) over @len bytes of @data. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);
/* The same by tables only (tests compare the two). */
uint32_t crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif

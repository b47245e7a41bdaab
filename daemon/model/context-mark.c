/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which iommufd context is this? Every context numbers its objects from 1,
 * so an IOAS answering at the recorded ID proves nothing. A managed VM's
 * context carries a mark instead: a second IOAS, never attached to a domain
 * (so nothing is pinned), with one page of a sealed memfd mapped at an IOVA
 * drawn at random (40 bits). Adoption copies that page into a scratch IOAS:
 * only the VM's own context has it there.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "model.h"
#include "iommufd.h"

#define MARK_PAGE 4096ull

static int mark_memfd(void)
{
	int fd = memfd_create("viommud-context-mark", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, MARK_PAGE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int context_mark_create(struct vm *vm)
{
	uint64_t nonce = 0, iova;
	uint32_t ioas_id = 0;
	int fd, r;

	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
		return -EIO;
	nonce &= (1ull << 40) - 1;
	iova = (nonce | 1) * MARK_PAGE; /* never 0: 0 reads as "no mark" */
	fd = mark_memfd();
	if (fd < 0)
		return fd;
	r = iommufd_ioas_alloc(vm->iommufd, &ioas_id);
	if (r == 0)
		r = iommufd_ioas_map_file(vm->iommufd, ioas_id,
					  KABI_IOMMU_IOAS_MAP_FIXED_IOVA | KABI_IOMMU_IOAS_MAP_READABLE,
					  fd, 0, MARK_PAGE, &iova);
	/* The mapping holds the file. */
	close(fd);
	if (r < 0) {
		if (ioas_id)
			iommufd_destroy(vm->iommufd, ioas_id);
		return r;
	}
	vm->mark_ioas_id = ioas_id;
	vm->mark_iova = iova;
	return 0;
}

int context_mark_prove(struct vm *vm)
{
	uint64_t dst_iova = 0;
	uint32_t scratch = 0;
	int r;

	if (!vm->mark_ioas_id || !vm->mark_iova)
		return -ENOENT;
	r = iommufd_ioas_alloc(vm->iommufd, &scratch);
	if (r < 0)
		return r;
	r = iommufd_ioas_copy(vm->iommufd, scratch, vm->mark_ioas_id, KABI_IOMMU_IOAS_MAP_READABLE,
			      vm->mark_iova, MARK_PAGE, &dst_iova);
	iommufd_destroy(vm->iommufd, scratch);
	return r < 0 ? -ESTALE : 0;
}

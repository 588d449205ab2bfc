// SPDX-License-Identifier: GPL-2.0
/*
 * kernelfile_hello - minimal out-of-tree module used by the kernelfile
 * qemu-tiny example to prove that DKMS-built modules load on the
 * provisioned kernel.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init kernelfile_hello_init(void)
{
	pr_info("kernelfile_hello: loaded\n");
	return 0;
}

static void __exit kernelfile_hello_exit(void)
{
	pr_info("kernelfile_hello: unloaded\n");
}

module_init(kernelfile_hello_init);
module_exit(kernelfile_hello_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kernelfile example: hello-world module built with DKMS");
MODULE_AUTHOR("kernelfile");
MODULE_VERSION("1.0");

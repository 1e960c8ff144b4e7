/* harness_deploy_cli: `lbharness deploy ...`, the command line over the
 * compose and Kubernetes generators (harness_manifest.h), netem
 * (harness_netem.h), the netns layout (harness_deploy.h) and podman's
 * settings (harness_engine.h). */
#ifndef LB_HARNESS_DEPLOY_CLI_H
#define LB_HARNESS_DEPLOY_CLI_H

/* `lbharness deploy ...`; argv[0] is "deploy". Returns the exit status. */
int lb_harness_deploy_main(int argc, char **argv);

#endif

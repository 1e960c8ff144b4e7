/* lbsim: the seed's tick simulator on the shared model. */
#include "sim_cli.h"

int main(int argc, char **argv) { return sim_cli_main(argc, argv); }

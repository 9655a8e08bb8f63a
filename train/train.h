/* Public header of the training engine: float32 NCHW tensors, layers with
 * forward/backward (ops.h), networks from model YAML (net.h) through model
 * specs (spec.h), datasets (data.h), optimizers (optim.h), configs
 * (config.h), checkpoints (checkpoint.h) and the training loop (trainer.h). */
#ifndef DNAS_TRAIN_H
#define DNAS_TRAIN_H

#include "checkpoint.h"
#include "config.h"
#include "data.h"
#include "net.h"
#include "ops.h"
#include "optim.h"
#include "spec.h"
#include "common.h"
#include "trainer.h"

#endif

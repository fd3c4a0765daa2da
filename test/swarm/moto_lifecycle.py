"""moto_server, plus the two pieces of the Auto Scaling lifecycle that moto 5.2.5 lacks.

moto has lifecycle hooks as records only: terminating an instance of a group that has an
EC2_INSTANCE_TERMINATING hook terminates it at once (it never waits in Terminating:Wait), and
CompleteLifecycleAction is not implemented at all. The worker-group lab test needs both, so
this launcher adds them to moto's own Auto Scaling backend, in the same process, before it
starts moto's server. Everything else (SSM, KMS, EC2, the rest of Auto Scaling) is moto as is.

- terminate-instance-in-auto-scaling-group on a group with a terminating hook puts the instance
  in Terminating:Wait, as AWS does; without a hook it behaves as before.
- complete-lifecycle-action on an instance in Terminating:Wait finishes the termination that
  moto would have done at once (detach, replace unless decremented, terminate the EC2 instance).
The heartbeat timeout is not modelled: nothing here completes an action by itself.

Usage: python3 moto_lifecycle.py -H <host> -p <port> (the arguments of moto_server).
"""
from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import AutoScalingBackend, TerminateInstanceActivity
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import EmptyResult
from moto.server import main

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
WAIT = "Terminating:Wait"
_terminate_now = AutoScalingBackend.terminate_instance


def _state(backend, instance_id):
    return next(
        (s for g in backend.autoscaling_groups.values() for s in g.instance_states if s.instance.id == instance_id),
        None,
    )


def terminate_instance(self, instance_id, should_decrement):
    state = _state(self, instance_id)
    hooked = state is not None and any(
        h.auto_scaling_group_name == state.auto_scaling_group_name and h.lifecycle_transition == TERMINATING
        for h in self.lifecycle_hooks.values()
    )
    if not hooked:
        return _terminate_now(self, instance_id, should_decrement)
    state.lifecycle_state = WAIT
    state.aws_swarm_should_decrement = should_decrement
    return TerminateInstanceActivity(state.instance, state.auto_scaling_group.desired_capacity)


def complete_lifecycle_action(self, group_name, hook_name, instance_id, result):
    if f"{group_name}_{hook_name}" not in self.lifecycle_hooks:
        raise ValidationError(f"No Lifecycle Hook named {hook_name} on {group_name}")
    state = _state(self, instance_id)
    if state is None or state.auto_scaling_group_name != group_name or state.lifecycle_state != WAIT:
        raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")
    # CONTINUE and ABANDON both end in termination for a terminating hook.
    _terminate_now(self, instance_id, getattr(state, "aws_swarm_should_decrement", False))


def _complete_response(self):
    self.autoscaling_backend.complete_lifecycle_action(
        self._get_param("AutoScalingGroupName"),
        self._get_param("LifecycleHookName"),
        self._get_param("InstanceId"),
        self._get_param("LifecycleActionResult"),
    )
    return EmptyResult()


AutoScalingBackend.terminate_instance = terminate_instance
AutoScalingBackend.complete_lifecycle_action = complete_lifecycle_action
AutoScalingResponse.complete_lifecycle_action = _complete_response

if __name__ == "__main__":
    main()

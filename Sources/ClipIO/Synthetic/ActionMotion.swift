/// The five synthetic actions, in the order of their keys.
public enum SyntheticAction: String, CaseIterable, Codable, Sendable {
    case run, walk, jump, wave, spin
}

/// How one clip's figure moves: the action's motion with this clip's random speed,
/// stride, direction and posture. `pose(at:)` gives the pose at any time.
///
/// The classes differ in motion, not in any single pose: a run and a walk both swing
/// legs and arms (a run faster, with a longer stride, bent arms and a lean), a wave and
/// a walk may both hold an arm up, a spin and a jump both stand on the spot.
struct ActionMotion {
    let action: SyntheticAction
    /// Turn about the vertical axis at time 0 (radians; 0 faces right, pi/2 the camera).
    let yaw: Double
    /// Cycles per second of the action's rhythm (strides, jumps, waves, turns).
    let cadence: Double
    /// Forward swing of the legs at full stride (radians).
    let stride: Double
    /// Ground speed, figure units per second (0 for actions on the spot).
    let groundSpeed: Double
    /// How high a jump lifts the feet, figure units.
    let jumpHeight: Double
    /// +1 or -1: which arm waves, or which way a spin turns.
    let side: Double
    /// When not nil, an arm held up without moving (left +1 or right -1): a pose that
    /// single frames of a wave also show.
    let heldArm: Double?
    /// Where in its cycle the clip starts, 0..<1.
    let startPhase: Double
    /// Sideways lift of the waving forearm or outstretched arms (radians).
    let armRaise: Double

    init(_ action: SyntheticAction, speed: Double, random: inout SplitMix64) {
        self.action = action
        startPhase = random.unit()
        side = random.sign()
        armRaise = random.uniform(2.0...2.5)
        let facing = random.next() & 1 == 0 ? 0 : Double.pi
        switch action {
        case .walk, .run:
            let isRun = action == .run
            yaw = facing + random.uniform(-0.3...0.3)
            cadence = speed * (isRun ? random.uniform(1.35...1.7) : random.uniform(0.85...1.1))
            stride = isRun ? random.uniform(0.6...0.8) : random.uniform(0.3...0.4)
            // Two steps per cycle, each about 2 * leg length * Trig.sin(stride) long.
            groundSpeed = 2 * Trig.sin(stride) * cadence * (isRun ? 1.15 : 1)
            jumpHeight = 0
            heldArm = random.unit() < 0.25 ? random.sign() : nil
        case .jump:
            yaw = random.uniform(0...(2 * .pi))
            cadence = speed * random.uniform(0.8...1.2)
            stride = 0
            groundSpeed = 0
            jumpHeight = random.uniform(0.2...0.35)
            heldArm = nil
        case .wave:
            yaw = side * .pi / 2 + random.uniform(-0.5...0.5)
            cadence = speed * random.uniform(1.6...2.6)
            stride = 0
            groundSpeed = 0
            jumpHeight = 0
            heldArm = nil
        case .spin:
            yaw = random.uniform(0...(2 * .pi))
            cadence = speed * random.uniform(0.6...1.1)
            stride = 0
            groundSpeed = 0
            jumpHeight = 0
            heldArm = random.unit() < 0.25 ? random.sign() : nil
        }
    }

    /// The pose `seconds` after the clip starts.
    func pose(at seconds: Double) -> Pose {
        let cycles = cadence * seconds + startPhase
        let phase = 2 * Double.pi * cycles
        var pose = Pose()
        pose.yaw = yaw
        switch action {
        case .walk, .run:
            let isRun = action == .run
            pose.position.x = groundSpeed * seconds * Trig.cos(yaw)
            pose.lean = isRun ? 0.2 : 0.04
            // A leg bends its knee while it swings forward (cos > 0).
            func leg(_ phase: Double) -> Limb {
                let swing = stride * Trig.sin(phase)
                let bend = isRun ? 0.3 + 1.3 * max(0, Trig.cos(phase)) : 0.08 + 0.6 * max(0, Trig.cos(phase))
                return Limb(upper: LimbAngle(swing: swing), lower: LimbAngle(swing: swing - bend))
            }
            func arm(_ phase: Double) -> Limb {
                let swing = -(isRun ? 0.9 : 0.6) * stride * Trig.sin(phase)
                return Limb(upper: LimbAngle(swing: swing), lower: LimbAngle(swing: swing + (isRun ? 1.4 : 0.25)))
            }
            pose.leftLeg = leg(phase)
            pose.rightLeg = leg(phase + .pi)
            pose.leftArm = arm(phase)
            pose.rightArm = arm(phase + .pi)
            // A run has a flight phase after each push-off.
            if isRun { pose.position.y = 0.05 * max(0, -Trig.cos(2 * phase)) }
        case .jump:
            let u = cycles - cycles.rounded(.down)
            var crouch = 0.0, flight = 0.0
            if u < 0.3 {
                crouch = Trig.sin(Double.pi * u / 0.3)
            } else if u < 0.8 {
                flight = (u - 0.3) / 0.5
            } else {
                crouch = Trig.sin(Double.pi * (u - 0.8) / 0.2)
            }
            let air = flight > 0 ? Trig.sin(Double.pi * flight) : 0
            pose.position.y = jumpHeight * 4 * flight * (1 - flight)
            pose.lean = 0.5 * crouch
            let thigh = 0.9 * crouch + 0.3 * air
            let leg = Limb(upper: LimbAngle(swing: thigh), lower: LimbAngle(swing: thigh - 1.8 * crouch - 0.5 * air))
            pose.leftLeg = leg
            pose.rightLeg = leg
            let armSwing = -0.8 * crouch + 2.6 * air
            let arm = Limb(upper: LimbAngle(swing: armSwing), lower: LimbAngle(swing: armSwing + 0.3))
            pose.leftArm = arm
            pose.rightArm = arm
        case .wave:
            pose.lean = 0.03 * Trig.sin(phase / 3)
            let stance = Limb(upper: LimbAngle(swing: 0, raise: 0.08), lower: LimbAngle(swing: 0, raise: 0.08))
            pose.leftLeg = stance
            pose.rightLeg = stance
            let waving = Limb(upper: LimbAngle(swing: 0.1, raise: armRaise),
                              lower: LimbAngle(swing: 0.1, raise: armRaise + 0.5 + 0.45 * Trig.sin(phase)))
            let resting = Limb(upper: LimbAngle(swing: 0.05, raise: 0.15), lower: LimbAngle(swing: 0.2, raise: 0.1))
            pose.leftArm = side > 0 ? waving : resting
            pose.rightArm = side > 0 ? resting : waving
        case .spin:
            pose.yaw = yaw + side * phase
            // Small steps to turn: one foot lifts, then the other.
            func leg(_ phase: Double) -> Limb {
                let lift = 0.25 * max(0, Trig.sin(2 * phase))
                return Limb(upper: LimbAngle(swing: lift, raise: 0.06), lower: LimbAngle(swing: -lift, raise: 0.06))
            }
            pose.leftLeg = leg(phase)
            pose.rightLeg = leg(phase + .pi / 2)
            let out = armRaise - 0.7
            let arm = Limb(upper: LimbAngle(swing: 0, raise: out), lower: LimbAngle(swing: 0.1, raise: out + 0.1))
            pose.leftArm = arm
            pose.rightArm = arm
        }
        if let heldArm {
            let held = Limb(upper: LimbAngle(swing: 0.1, raise: armRaise), lower: LimbAngle(swing: 0.1, raise: armRaise + 0.5))
            if heldArm > 0 { pose.leftArm = held } else { pose.rightArm = held }
        }
        return pose
    }
}

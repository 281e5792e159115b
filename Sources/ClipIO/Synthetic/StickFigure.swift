/// A point of the figure in figure units: the standing figure is about 1 tall.
/// x points where the figure faces, y up from the ground, z to its left.
struct Point3: Equatable {
    var x: Double, y: Double, z: Double

    static func + (a: Point3, b: Point3) -> Point3 { Point3(x: a.x + b.x, y: a.y + b.y, z: a.z + b.z) }
    static func * (a: Point3, s: Double) -> Point3 { Point3(x: a.x * s, y: a.y * s, z: a.z * s) }
}

/// The direction of one limb segment: `swing` turns it forward (radians, 0 = hanging
/// down, + = toward where the figure faces), `raise` lifts it sideways away from the body
/// (0 = down, pi/2 = straight out, pi = straight up).
struct LimbAngle: Equatable {
    var swing: Double
    var raise: Double = 0

    /// The unit direction for a limb on `side` (+1 left, -1 right).
    func direction(side: Double) -> Point3 {
        Point3(x: Trig.sin(swing) * Trig.cos(raise), y: -Trig.cos(swing) * Trig.cos(raise), z: side * Trig.sin(raise))
    }
}

/// Both segments of an arm or a leg.
struct Limb: Equatable {
    var upper: LimbAngle
    var lower: LimbAngle

    static let hanging = Limb(upper: LimbAngle(swing: 0), lower: LimbAngle(swing: 0))
}

/// An articulated stick figure's pose: limb angles, torso lean, body turn and where it stands.
struct Pose: Equatable {
    /// Where the body is, figure units: x across the screen (+ right) and how high the
    /// lowest foot is off the ground (y).
    var position = Point3(x: 0, y: 0, z: 0)
    /// Turn about the vertical axis, radians: 0 faces right on screen, pi/2 faces the camera.
    var yaw: Double = 0
    /// Forward lean of the torso, radians.
    var lean: Double = 0
    var leftLeg = Limb.hanging, rightLeg = Limb.hanging
    var leftArm = Limb.hanging, rightArm = Limb.hanging
}

/// The figure's proportions, figure units (leg 0.5 + torso 0.3 + neck and head 0.2).
enum Body {
    static let thigh = 0.25, shin = 0.25
    static let torso = 0.3
    static let upperArm = 0.16, forearm = 0.15
    static let headRadius = 0.075, neckToHead = 0.1
    static let hipHalfWidth = 0.05, shoulderHalfWidth = 0.09
}

/// The figure's joints in figure units, after the pose's yaw, standing on the ground
/// (its lowest foot at `pose.position.y`).
struct Skeleton {
    var hip: Point3, neck: Point3, head: Point3
    var leftHip: Point3, leftKnee: Point3, leftFoot: Point3
    var rightHip: Point3, rightKnee: Point3, rightFoot: Point3
    var leftShoulder: Point3, leftElbow: Point3, leftHand: Point3
    var rightShoulder: Point3, rightElbow: Point3, rightHand: Point3

    init(_ pose: Pose) {
        let up = Point3(x: Trig.sin(pose.lean), y: Trig.cos(pose.lean), z: 0)
        let hip = Point3(x: 0, y: 0, z: 0)
        let neck = hip + up * Body.torso
        func leg(_ limb: Limb, side: Double) -> (Point3, Point3, Point3) {
            let top = hip + Point3(x: 0, y: 0, z: side * Body.hipHalfWidth)
            let knee = top + limb.upper.direction(side: side) * Body.thigh
            return (top, knee, knee + limb.lower.direction(side: side) * Body.shin)
        }
        func arm(_ limb: Limb, side: Double) -> (Point3, Point3, Point3) {
            let top = neck + Point3(x: 0, y: -0.02, z: side * Body.shoulderHalfWidth)
            let elbow = top + limb.upper.direction(side: side) * Body.upperArm
            return (top, elbow, elbow + limb.lower.direction(side: side) * Body.forearm)
        }
        (leftHip, leftKnee, leftFoot) = leg(pose.leftLeg, side: 1)
        (rightHip, rightKnee, rightFoot) = leg(pose.rightLeg, side: -1)
        (leftShoulder, leftElbow, leftHand) = arm(pose.leftArm, side: 1)
        (rightShoulder, rightElbow, rightHand) = arm(pose.rightArm, side: -1)
        self.hip = hip
        self.neck = neck
        head = neck + up * Body.neckToHead
        // Turn about the vertical axis, then stand the lowest foot at the pose's height.
        let turn = { (p: Point3) -> Point3 in
            Point3(x: p.x * Trig.cos(pose.yaw) - p.z * Trig.sin(pose.yaw), y: p.y, z: p.x * Trig.sin(pose.yaw) + p.z * Trig.cos(pose.yaw))
        }
        let lowest = min(leftFoot.y, rightFoot.y)
        let shift = Point3(x: pose.position.x, y: pose.position.y - lowest, z: pose.position.z)
        self.transformJoints { turn($0) + shift }
    }

    private mutating func transformJoints(_ transform: (Point3) -> Point3) {
        hip = transform(hip); neck = transform(neck); head = transform(head)
        leftHip = transform(leftHip); leftKnee = transform(leftKnee); leftFoot = transform(leftFoot)
        rightHip = transform(rightHip); rightKnee = transform(rightKnee); rightFoot = transform(rightFoot)
        leftShoulder = transform(leftShoulder); leftElbow = transform(leftElbow); leftHand = transform(leftHand)
        rightShoulder = transform(rightShoulder); rightElbow = transform(rightElbow); rightHand = transform(rightHand)
    }

    /// The sticks to draw, as pairs of joints.
    var segments: [(Point3, Point3)] {
        [(hip, neck), (leftHip, rightHip), (leftShoulder, rightShoulder),
         (leftHip, leftKnee), (leftKnee, leftFoot), (rightHip, rightKnee), (rightKnee, rightFoot),
         (leftShoulder, leftElbow), (leftElbow, leftHand), (rightShoulder, rightElbow), (rightElbow, rightHand)]
    }
}
